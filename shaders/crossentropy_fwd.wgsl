// Cross-entropy forward, one workgroup per row: each thread keeps a running (max, Σexp)
// over its strided logits (online softmax), then a fixed-order tree merges the pairs.
// loss = lse - logits[target]; rows with target < 0 are ignored (loss 0).
// logits: (N, V)   targets: i32 (N)   losses: (N)   lse: (N) (log-sum-exp, kept for the backward)

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> losses: array<f32>;
@group(0) @binding(3) var<storage, read_write> lse_out: array<f32>;
struct Params { n: u32, v: u32 }
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;
const LOWEST: f32 = -3.4028234e38;

var<workgroup> red_max: array<f32, WG>;
var<workgroup> red_sum: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.n) { return; }
  let V = params.v;
  let base = row * V;
  var m = LOWEST;
  var s = 0.0;
  for (var j = lid.x; j < V; j += WG) {
    let x = logits[base + j];
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
  if (lid.x == 0u) {
    let lse = red_max[0] + log(red_sum[0]);
    lse_out[row] = lse;
    let t = targets[row];
    if (t < 0) {
      losses[row] = 0.0;
    } else if (u32(t) >= V) {
      losses[row] = -LOWEST; // a target outside the vocabulary is a bug upstream: make the loss unmissable
    } else {
      losses[row] = lse - logits[base + u32(t)];
    }
  }
}
