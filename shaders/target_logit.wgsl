// The logit of each row's target, for vocab-parallel cross-entropy: this rank holds columns
// [0, V) of its vocabulary shard and targets numbered within it; a target outside [0, V)
// (held by another rank, or ignored) gives 0, so summing over the ranks gives the target logit.
// logits: (N, V)   targets: i32 (N)   out: (N) overwritten

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
struct Params { n: u32, v: u32 }
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (row >= params.n) { return; }
  let t = targets[row];
  var x = 0.0;
  if (t >= 0 && u32(t) < params.v) { x = logits[row * params.v + u32(t)]; }
  out[row] = x;
}
