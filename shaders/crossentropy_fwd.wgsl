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

// #include online_softmax.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.n) { return; }
  let V = params.v;
  let base = row * V;
  var ms = EMPTY_MAX_SUM;
  for (var j = lid.x; j < V; j += WG) { ms = online_max_sum(ms, logits[base + j]); }
  let stats = workgroup_max_sum(ms, lid.x); // (max, Σ exp)
  if (lid.x == 0u) {
    let lse = stats.x + log(stats.y);
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
