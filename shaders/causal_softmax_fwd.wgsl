// Causal softmax in place, one workgroup per row (b·h, i):
// probs[i, j] = softmax_{j ≤ i}(scale · scores[i, j]); entries j > i set to 0.
// Running (max, Σexp) per thread, merged by a fixed-order tree.
// att: (BH, T, T) read-write: scores in, probs out

@group(0) @binding(0) var<storage, read_write> att: array<f32>;
struct Params { rows: u32, t: u32, scale: f32 }
@group(0) @binding(1) var<uniform> params: Params;

override WG: u32 = 256u;
const LOWEST: f32 = -3.4028234e38;

var<workgroup> red_max: array<f32, WG>;
var<workgroup> red_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let T = params.t;
  let i = row % T;
  let base = row * T;
  var m = LOWEST;
  var s = 0.0;
  for (var j = lid.x; j <= i; j += WG) {
    let x = params.scale * att[base + j];
    if (x > m) { s = s * exp(m - x) + 1.0; m = x; } else { s += exp(x - m); }
  }
  red_max[lid.x] = m;
  red_sum[lid.x] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride >>= 1u) {
    if (lid.x < stride) {
      let m1 = red_max[lid.x];
      let m2 = red_max[lid.x + stride];
      let mm = max(m1, m2);
      red_sum[lid.x] = red_sum[lid.x] * exp(m1 - mm) + red_sum[lid.x + stride] * exp(m2 - mm);
      red_max[lid.x] = mm;
    }
    workgroupBarrier();
  }
  let mx = red_max[0];
  let inv = 1.0 / red_sum[0];
  for (var j = lid.x; j < T; j += WG) {
    att[base + j] = select(0.0, exp(params.scale * att[base + j] - mx) * inv, j <= i);
  }
}
