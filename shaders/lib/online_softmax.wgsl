// Online softmax statistics: a running (max m, Σ exp(x - m)) per invocation, then merged over
// the workgroup by a fixed-order tree (deterministic). The includer declares `override WG: u32`
// (a power of two: the workgroup size). Call workgroup_max_sum from uniform control flow.

const LOWEST: f32 = -3.4028234e38;
// (max, Σ exp) of no values
const EMPTY_MAX_SUM = vec2<f32>(LOWEST, 0.0);

var<workgroup> max_sum_scratch: array<vec2<f32>, WG>;

// ms: (max, Σ exp(x - max)) so far; adds one value x
fn online_max_sum(ms: vec2<f32>, x: f32) -> vec2<f32> {
  if (x > ms.x) { return vec2<f32>(x, ms.y * exp(ms.x - x) + 1.0); }
  return vec2<f32>(ms.x, ms.y + exp(x - ms.x));
}

// merges two (max, Σ exp) pairs
fn merge_max_sum(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let m = max(a.x, b.x);
  return vec2<f32>(m, a.y * exp(a.x - m) + b.y * exp(b.x - m));
}

// every invocation gets the workgroup's (max, Σ exp)
fn workgroup_max_sum(ms: vec2<f32>, lid: u32) -> vec2<f32> {
  max_sum_scratch[lid] = ms;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { max_sum_scratch[lid] = merge_max_sum(max_sum_scratch[lid], max_sum_scratch[lid + s]); }
    workgroupBarrier();
  }
  let total = max_sum_scratch[0];
  workgroupBarrier();
  return total;
}
