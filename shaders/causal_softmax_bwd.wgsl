// Causal softmax backward in place, one workgroup per row (b·h, i):
// dscores[i, j] = scale · probs[i, j] · (dprobs[i, j] - Σ_{k ≤ i} probs[i, k] · dprobs[i, k]) for j ≤ i, else 0.
// att: (BH, T, T) probs   datt: (BH, T, T) read-write: dprobs in, dscores out

@group(0) @binding(0) var<storage, read> att: array<f32>;
@group(0) @binding(1) var<storage, read_write> datt: array<f32>;
struct Params { rows: u32, t: u32, scale: f32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

alias RowSum = f32;
// #include workgroup_sum.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) { return; }
  let T = params.t;
  let i = row % T;
  let base = row * T;
  var s = 0.0;
  for (var j = lid.x; j <= i; j += WG) { s += att[base + j] * datt[base + j]; }
  let dot = workgroup_sum(s, lid.x);
  // masked entries are written, never read
  for (var j = lid.x; j < T; j += WG) {
    var ds = 0.0;
    if (j <= i) { ds = params.scale * att[base + j] * (datt[base + j] - dot); }
    datt[base + j] = ds;
  }
}
