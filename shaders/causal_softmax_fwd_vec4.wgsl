// Causal softmax in place, one workgroup per row (b·h, i), for T % 4 == 0 and T ≤ 16·WG: each
// invocation keeps its (up to) 16 entries of the row in registers, so the row is read once (only
// up to the diagonal) and written once, with four independent vec4 loads in flight per invocation.
// probs[i, j] = softmax_{j ≤ i}(scale · scores[i, j]); entries j > i set to 0.
// att: (BH, T, T/4) vec4, read-write: scores in, probs out
// lse: (BH·T) log Σ_{j ≤ i} exp(scale · scores[i, j]) of each row when WRITE_LSE
// Invocation t owns the row's vec4 q = t, t + WG, t + 2·WG, t + 3·WG (neighbours read neighbours).

@group(0) @binding(0) var<storage, read_write> att: array<vec4<f32>>;
struct Params { rows: u32, t: u32, scale: f32 }
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read_write> lse: array<f32>;

override WG: u32 = 128u;
override WRITE_LSE: bool = false;

// #include online_softmax.wgsl

// scale · scores of vec4 q of the row (entries j = 4q..4q+3), LOWEST where j > i or past the row;
// a vec4 wholly past the diagonal is not read
fn scaled(base: u32, q: u32, i: u32) -> vec4<f32> {
  if (q * 4u > i || q >= params.t / 4u) { return vec4<f32>(LOWEST); }
  let j = vec4<u32>(q * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  return select(vec4<f32>(LOWEST), params.scale * att[base + q], j <= vec4<u32>(i));
}

fn max4(v: vec4<f32>) -> f32 { return max(max(v.x, v.y), max(v.z, v.w)); }

// Σ exp(v − m) over the entries of v above LOWEST
fn sum_exp(v: vec4<f32>, m: f32) -> f32 {
  let e = select(vec4<f32>(0.0), exp(v - m), v > vec4<f32>(LOWEST));
  return e.x + e.y + e.z + e.w;
}

fn store(base: u32, q: u32, i: u32, v: vec4<f32>, mx: f32, inv: f32) {
  if (q >= params.t / 4u) { return; }
  let j = vec4<u32>(q * 4u) + vec4<u32>(0u, 1u, 2u, 3u);
  att[base + q] = select(vec4<f32>(0.0), exp(v - mx) * inv, j <= vec4<u32>(i));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let i = row % params.t;
  let base = row * (params.t / 4u);
  let t = lid.x;
  let x0 = scaled(base, t, i);
  let x1 = scaled(base, t + WG, i);
  let x2 = scaled(base, t + 2u * WG, i);
  let x3 = scaled(base, t + 3u * WG, i);
  let m = max(max(max4(x0), max4(x1)), max(max4(x2), max4(x3)));
  // an invocation with no entry at or below the diagonal adds nothing (EMPTY_MAX_SUM)
  var ms = EMPTY_MAX_SUM;
  if (m > LOWEST) { ms = vec2<f32>(m, sum_exp(x0, m) + sum_exp(x1, m) + sum_exp(x2, m) + sum_exp(x3, m)); }
  let stats = workgroup_max_sum(ms, t); // (max, Σ exp)
  let inv = 1.0 / stats.y;
  if (WRITE_LSE && t == 0u) { lse[row] = stats.x + log(stats.y); }
  store(base, t, i, x0, stats.x, inv);
  store(base, t + WG, i, x1, stats.x, inv);
  store(base, t + 2u * WG, i, x2, stats.x, inv);
  store(base, t + 3u * WG, i, x3, stats.x, inv);
}
