// RMSNorm backward w.r.t. the input, one workgroup per row:
// dnorm = dout·w, xhat = x·rstd, dinp += rstd · (dnorm - xhat · mean(dnorm · xhat))   (accumulates)
// dout: (N, C)   inp: (N, C)   weight: (C)   rstd: (N)   dinp: (N, C) accumulated

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> weight: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dinp: array<f32>;
struct Params { n: u32, c: u32 }
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 256u;

alias RowSum = f32;
// #include workgroup_sum.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.n) { return; }
  let C = params.c;
  let base = row * C;
  let rs = rstd[row];
  var s = 0.0;
  for (var c = lid.x; c < C; c += WG) { s += dout[base + c] * weight[c] * inp[base + c] * rs; }
  let m = workgroup_sum(s, lid.x) / f32(C);
  for (var c = lid.x; c < C; c += WG) {
    let xhat = inp[base + c] * rs;
    dinp[base + c] = dinp[base + c] + rs * (dout[base + c] * weight[c] - xhat * m);
  }
}
