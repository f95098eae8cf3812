// RMSNorm weight gradient, deterministic column sums (see layernorm_param_grad.wgsl):
// dweight[c] += Σ_r dout[r,c] · inp[r,c] · rstd[r]
// dout: (N, C)   inp: (N, C)   rstd: (N)   dweight: (C) accumulated

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> rstd: array<f32>;
@group(0) @binding(3) var<storage, read_write> dweight: array<f32>;
struct Params { n: u32, c: u32 }
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;
override TX: u32 = 32u;

var<workgroup> part: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let TY = WG / TX;
  let tx = lid.x % TX;
  let ty = lid.x / TX;
  let C = params.c;
  let c = (wid.x + wid.y * nwg.x) * TX + tx;
  var s = 0.0;
  if (c < C) {
    for (var r = ty; r < params.n; r += TY) { s += dout[r * C + c] * inp[r * C + c] * rstd[r]; }
  }
  part[lid.x] = s;
  workgroupBarrier();
  for (var stride = TY / 2u; stride > 0u; stride >>= 1u) {
    if (ty < stride) { part[lid.x] += part[lid.x + stride * TX]; }
    workgroupBarrier();
  }
  if (ty == 0u && c < C) { dweight[c] = dweight[c] + part[tx]; }
}
