// LayerNorm parameter gradients, deterministic column sums: each workgroup owns TX
// adjacent columns; its WG/TX row lanes sum rows lane, lane+TY, ... in order, then a
// fixed tree adds the lanes.
// dweight[c] += Σ_r dout[r,c]·xhat[r,c]    dbias[c] += Σ_r dout[r,c]
// dout: (N, C)   inp: (N, C)   mean: (N)   rstd: (N)   dweight: (C)   dbias: (C) accumulated

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> rstd: array<f32>;
@group(0) @binding(4) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbias: array<f32>;
struct Params { n: u32, c: u32 }
@group(0) @binding(6) var<uniform> params: Params;

override WG: u32 = 256u;
override TX: u32 = 32u;

var<workgroup> part: array<vec2<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let TY = WG / TX;
  let tx = lid.x % TX;
  let ty = lid.x / TX;
  let C = params.c;
  let c = (wid.x + wid.y * nwg.x) * TX + tx;
  var s = vec2<f32>(0.0);
  if (c < C) {
    for (var r = ty; r < params.n; r += TY) {
      let d = dout[r * C + c];
      let xhat = (inp[r * C + c] - mean[r]) * rstd[r];
      s += vec2<f32>(d * xhat, d);
    }
  }
  part[lid.x] = s;
  workgroupBarrier();
  for (var stride = TY / 2u; stride > 0u; stride >>= 1u) {
    if (ty < stride) { part[lid.x] += part[lid.x + stride * TX]; }
    workgroupBarrier();
  }
  if (ty == 0u && c < C) {
    dweight[c] = dweight[c] + part[tx].x;
    dbias[c] = dbias[c] + part[tx].y;
  }
}
