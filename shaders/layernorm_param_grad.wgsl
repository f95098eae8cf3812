// LayerNorm parameter gradients, deterministic column sums (lib/column_sum.wgsl):
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

alias ColSum = vec2<f32>;
// #include column_sum.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let lane = column_lane(lid.x); // (tx, ty)
  let C = params.c;
  let c = (wid.x + wid.y * nwg.x) * TX + lane.x;
  var s = vec2<f32>(0.0);
  if (c < C) {
    for (var r = lane.y; r < params.n; r += WG / TX) {
      let d = dout[r * C + c];
      let xhat = (inp[r * C + c] - mean[r]) * rstd[r];
      s += vec2<f32>(d * xhat, d);
    }
  }
  let total = column_lanes_sum(s, lane.x, lane.y);
  if (lane.y == 0u && c < C) {
    dweight[c] = dweight[c] + total.x;
    dbias[c] = dbias[c] + total.y;
  }
}
