// Token (+ learned position) embedding: out[b·T + t, c] = wte[tokens[b·T + t], c] + wpe[t, c].
// Without position embeddings (rotary models) HAS_WPE is false and wpe is not read.
// Vocab-parallel: wte holds rows [v_start, v_start + v_count) of the table; a token outside
// them contributes 0 (another tensor-parallel rank holds its row; the ranks' outputs are summed).
// tokens: i32 (B*T)   wte: (v_count, C)   wpe: (maxPos, C)   out: (B*T, C) overwritten

@group(0) @binding(0) var<storage, read> tokens: array<i32>;
@group(0) @binding(1) var<storage, read> wte: array<f32>;
@group(0) @binding(2) var<storage, read> wpe: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
struct Params { n: u32, t: u32, c: u32, v_start: u32, v_count: u32 }
@group(0) @binding(4) var<uniform> params: Params;

override WG: u32 = 256u;
override HAS_WPE: bool = true;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x; // index into (B*T, C)
  if (i >= params.n) { return; }
  let C = params.c;
  let bt = i / C;
  let c = i - bt * C;
  let tok = u32(tokens[bt]) - params.v_start; // wraps to a huge value below v_start
  var x = 0.0;
  if (tok < params.v_count) { x = wte[tok * C + c]; }
  if (HAS_WPE) { x += wpe[(bt % params.t) * C + c]; }
  out[i] = x;
}
