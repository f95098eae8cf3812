// Token embedding backward without atomics: positions come pre-grouped by token id
// (bucketTokens on the CPU), so each (bucket, column) sums its positions in ascending
// order and adds once: dwte[tok, c] += Σ_{p in bucket} dout[p, c]. Deterministic.
// dout: (BT, C)   buckets: i32 [U, (token, start, count) × BT, positions × BT]   dwte: (V, C) accumulated

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read> buckets: array<i32>;
@group(0) @binding(2) var<storage, read_write> dwte: array<f32>;
struct Params { bt: u32, c: u32, col_blocks: u32 }
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let w = wid.x + wid.y * nwg.x;
  let bucket = w / params.col_blocks;
  let c = (w % params.col_blocks) * WG + lid.x;
  if (bucket >= u32(buckets[0]) || c >= params.c) { return; }
  let C = params.c;
  let tok = u32(buckets[1u + 3u * bucket]);
  let start = u32(buckets[2u + 3u * bucket]);
  let count = u32(buckets[3u + 3u * bucket]);
  let positions = 1u + 3u * params.bt;
  var s = 0.0;
  for (var k = 0u; k < count; k++) { s += dout[u32(buckets[positions + start + k]) * C + c]; }
  dwte[tok * C + c] = dwte[tok * C + c] + s;
}
