// dbias[c] += Σ_r dy[r, c], deterministic column sums (lib/column_sum.wgsl).
// dy: (rows, cols)   dbias: (cols) accumulated

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;
struct Params { rows: u32, cols: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;
override TX: u32 = 32u;

alias ColSum = f32;
// #include column_sum.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let lane = column_lane(lid.x); // (tx, ty)
  let c = (wid.x + wid.y * nwg.x) * TX + lane.x;
  var s = 0.0;
  if (c < params.cols) {
    for (var r = lane.y; r < params.rows; r += WG / TX) { s += dy[r * params.cols + c]; }
  }
  let total = column_lanes_sum(s, lane.x, lane.y);
  if (lane.y == 0u && c < params.cols) { dbias[c] = dbias[c] + total; }
}
