// Inverted dropout in place with a counter-based hash RNG (no stored mask). The mask of an
// element depends only on (step seed, call site, global sample, global group, offset in the
// group), so it is the same whichever rank, micro-batch or layout computes it: x is viewed as
// (samples, groups, groupSize) — groups are e.g. attention heads, of which this rank holds
// `groups` starting at global head `groupBase`, and of each group the elements from `offset` on
// (a sequence-parallel rank's positions of a sample: offset = its first position × C). An
// element is kept iff u >= p, u uniform in [0, 1) on a 2^-24 grid; kept values are scaled by
// 1/(1-p). The backward runs this same kernel on the gradient: same mask.
// x: (N) read-write   seed: u32 (4) = [step seed, global id of the first sample, 0, 0]

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<storage, read> seed: array<u32>;
struct Params { n: u32, stream: u32, p: f32, scale: f32, groupSize: u32, groups: u32, groupBase: u32, offset: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

// integer hash with good avalanche (lowbias32 constants)
fn mix32(v: u32) -> u32 {
  var h = v;
  h ^= h >> 16u;
  h *= 0x7feb352du;
  h ^= h >> 15u;
  h *= 0x846ca68bu;
  h ^= h >> 16u;
  return h;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= params.n) { return; }
  let inGroup = i % params.groupSize + params.offset;
  let groupIndex = i / params.groupSize;
  let sample = seed[1] + groupIndex / params.groups;
  let group = params.groupBase + groupIndex % params.groups;
  let site = mix32(seed[0] ^ mix32(params.stream));
  let row = mix32(mix32(site ^ mix32(sample)) ^ mix32(group + 0x9e3779b9u));
  let h = mix32(mix32(inGroup ^ row) + row);
  let u = f32(h >> 8u) * (1.0 / 16777216.0);
  x[i] = select(0.0, x[i] * params.scale, u >= params.p);
}
