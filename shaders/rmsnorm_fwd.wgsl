// RMSNorm forward, one workgroup per row with a fixed-order tree reduction:
// rstd = 1/sqrt(mean(x²) + eps), y = x · rstd · w.
// inp: (N, C)   weight: (C)   out: (N, C)   rstd: (N)

@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> rstd_out: array<f32>;
struct Params { n: u32, c: u32, eps: f32 }
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;

alias RowSum = f32;
// #include workgroup_sum.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.n) { return; }
  let C = params.c;
  let base = row * C;
  var ss = 0.0;
  for (var c = lid.x; c < C; c += WG) { let x = inp[base + c]; ss += x * x; }
  let rstd = 1.0 / sqrt(workgroup_sum(ss, lid.x) / f32(C) + params.eps);
  for (var c = lid.x; c < C; c += WG) { out[base + c] = inp[base + c] * rstd * weight[c]; }
  if (lid.x == 0u) { rstd_out[row] = rstd; }
}
