// Causal softmax in place, one workgroup per row (b·h, i):
// probs[i, j] = softmax_{j ≤ i}(scale · scores[i, j]); entries j > i set to 0.
// Running (max, Σexp) per thread, merged by a fixed-order tree.
// att: (BH, T, T) read-write: scores in, probs out
// lse: (BH·T) log Σ_{j ≤ i} exp(scale · scores[i, j]) of each row when WRITE_LSE (then
// probs = exp(scale · scores − lse): the matmul epilogue 'probsFromLse' recomputes them from it)

@group(0) @binding(0) var<storage, read_write> att: array<f32>;
struct Params { rows: u32, t: u32, scale: f32 }
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;

override WG: u32 = 256u;
override WRITE_LSE: bool = false;

// #include online_softmax.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let T = params.t;
  let i = row % T;
  let base = row * T;
  var ms = EMPTY_MAX_SUM;
  for (var j = lid.x; j <= i; j += WG) { ms = online_max_sum(ms, params.scale * att[base + j]); }
  let stats = workgroup_max_sum(ms, lid.x); // (max, Σ exp)
  let mx = stats.x;
  let inv = 1.0 / stats.y;
  if (WRITE_LSE && lid.x == 0u) { lse[row] = mx + log(stats.y); }
  // masked entries are written, never read (half of a row's memory traffic on average)
  for (var j = lid.x; j < T; j += WG) {
    var prob = 0.0;
    if (j <= i) { prob = exp(params.scale * att[base + j] - mx) * inv; }
    att[base + j] = prob;
  }
}
