// The sum (or mean) of `slots` equal slices of one buffer, in slot order, into slot 0.
// s: (slots, N) read-write; slot 0 ends as Σ_r s[r] (÷ divisor)

@group(0) @binding(0) var<storage, read_write> s: array<f32>;
struct Params { n: u32, slots: u32, divisor: f32 }
@group(0) @binding(1) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= params.n) { return; }
  var acc = s[i];
  for (var r = 1u; r < params.slots; r++) {
    acc = acc + s[r * params.n + i];
  }
  if (params.divisor != 1.0) { acc = acc / params.divisor; }
  s[i] = acc;
}
