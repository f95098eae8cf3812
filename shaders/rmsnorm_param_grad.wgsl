// RMSNorm weight gradient, deterministic column sums (lib/column_sum.wgsl):
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

alias ColSum = f32;
// #include column_sum.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let lane = column_lane(lid.x); // (tx, ty)
  let C = params.c;
  let c = (wid.x + wid.y * nwg.x) * TX + lane.x;
  var s = 0.0;
  if (c < C) {
    for (var r = lane.y; r < params.n; r += WG / TX) { s += dout[r * C + c] * inp[r * C + c] * rstd[r]; }
  }
  let total = column_lanes_sum(s, lane.x, lane.y);
  if (lane.y == 0u && c < C) { dweight[c] = dweight[c] + total; }
}
