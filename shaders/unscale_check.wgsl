// Gradients after a loss-scaled backward: g *= factors[which] (1 / loss scale), and flag[0]
// becomes 1 if any g is Inf or NaN. The test reads the bits (exponent all ones), so it holds
// even where a compiler may assume floats are finite.
// grads: (P) read-write   factors: (F)   flag: u32 (1), cleared by the caller before the step

@group(0) @binding(0) var<storage, read_write> grads: array<f32>;
@group(0) @binding(1) var<storage, read> factors: array<f32>;
@group(0) @binding(2) var<storage, read_write> flag: array<atomic<u32>>;
struct Params { n: u32, which: u32 }
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= params.n) { return; }
  let g = grads[i] * factors[params.which];
  grads[i] = g;
  if ((bitcast<u32>(g) & 0x7f800000u) == 0x7f800000u) { atomicOr(&flag[0], 1u); }
}
