// Learned position embedding backward: dwpe[t, c] += Σ_b dout[b·T + t, c], batches in order.
// dout: (B*T, C)   dwpe: (maxPos, C) accumulated (rows t < T)

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read_write> dwpe: array<f32>;
struct Params { b: u32, t: u32, c: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x; // index into (T, C)
  let TC = params.t * params.c;
  if (i >= TC) { return; }
  var s = 0.0;
  for (var b = 0u; b < params.b; b++) { s += dout[b * TC + i]; }
  dwpe[i] = dwpe[i] + s;
}
