// LayerNorm forward, one workgroup per row, two-pass (mean, then centred variance)
// with a fixed-order tree reduction. Biased variance, rstd = 1/sqrt(var + eps).
// inp: (N, C)   weight: (C)   bias: (C)   out: (N, C)   mean: (N)   rstd: (N)

@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(5) var<storage, read_write> rstd_out: array<f32>;
struct Params { n: u32, c: u32, eps: f32 }
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 256u;

alias RowSum = f32;
// #include workgroup_sum.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.n) { return; }
  let C = params.c;
  let base = row * C;
  var s = 0.0;
  for (var c = lid.x; c < C; c += WG) { s += inp[base + c]; }
  let mean = workgroup_sum(s, lid.x) / f32(C);
  var v = 0.0;
  for (var c = lid.x; c < C; c += WG) { let d = inp[base + c] - mean; v += d * d; }
  let rstd = 1.0 / sqrt(workgroup_sum(v, lid.x) / f32(C) + params.eps);
  for (var c = lid.x; c < C; c += WG) {
    out[base + c] = (inp[base + c] - mean) * rstd * weight[c] + bias[c];
  }
  if (lid.x == 0u) {
    mean_out[row] = mean;
    rstd_out[row] = rstd;
  }
}
