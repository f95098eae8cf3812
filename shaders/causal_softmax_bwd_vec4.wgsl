// Causal softmax backward in place, one workgroup per row (b·h, i), for T % 4 == 0 and
// T ≤ 16·WG: each invocation keeps its (up to) 16 entries of both rows in registers, so each row
// is read once (only up to the diagonal) and the result written once.
// dscores[i, j] = scale · probs[i, j] · (dprobs[i, j] - Σ_{k ≤ i} probs[i, k] · dprobs[i, k]) for j ≤ i, else 0.
// att: (BH, T, T/4) vec4 probs   datt: (BH, T, T/4) vec4 read-write: dprobs in, dscores out
// Entries j > i of either input are never used (dprobs there may hold anything, NaN included).

@group(0) @binding(0) var<storage, read> att: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> datt: array<vec4<f32>>;
struct Params { rows: u32, t: u32, scale: f32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 128u;

alias RowSum = f32;
// #include workgroup_sum.wgsl

fn below(q: u32, i: u32) -> vec4<bool> {
  return vec4<u32>(q * 4u) + vec4<u32>(0u, 1u, 2u, 3u) <= vec4<u32>(i);
}

// a vec4 wholly past the diagonal (or the row) is not read: zeros
fn probs(base: u32, q: u32, i: u32) -> vec4<f32> {
  if (q * 4u > i || q >= params.t / 4u) { return vec4<f32>(0.0); }
  return select(vec4<f32>(0.0), att[base + q], below(q, i));
}

fn dprobs(base: u32, q: u32, i: u32) -> vec4<f32> {
  if (q * 4u > i || q >= params.t / 4u) { return vec4<f32>(0.0); }
  return select(vec4<f32>(0.0), datt[base + q], below(q, i));
}

fn store(base: u32, q: u32, i: u32, p: vec4<f32>, d: vec4<f32>, total: f32) {
  if (q >= params.t / 4u) { return; }
  datt[base + q] = select(vec4<f32>(0.0), params.scale * p * (d - total), below(q, i));
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let i = row % params.t;
  let base = row * (params.t / 4u);
  let t = lid.x;
  let p0 = probs(base, t, i);
  let p1 = probs(base, t + WG, i);
  let p2 = probs(base, t + 2u * WG, i);
  let p3 = probs(base, t + 3u * WG, i);
  let d0 = dprobs(base, t, i);
  let d1 = dprobs(base, t + WG, i);
  let d2 = dprobs(base, t + 2u * WG, i);
  let d3 = dprobs(base, t + 3u * WG, i);
  let total = workgroup_sum(dot(p0, d0) + dot(p1, d1) + dot(p2, d2) + dot(p3, d3), t);
  store(base, t, i, p0, d0, total);
  store(base, t + WG, i, p1, d1, total);
  store(base, t + 2u * WG, i, p2, d2, total);
  store(base, t + 3u * WG, i, p3, d3, total);
}
