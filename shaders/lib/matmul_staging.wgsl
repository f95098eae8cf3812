// The next K step's tiles of a matmul, staged in registers (LOADS_A, LOADS_B vec4 per
// invocation, 1..4) between the global loads and the workgroup-memory stores. The includer
// declares LOADS_A, LOADS_B and fetchA, fetchB (load i of a step) and putA, putB (store it).

struct Staged { a0: vec4<f32>, a1: vec4<f32>, a2: vec4<f32>, a3: vec4<f32>, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32> }

fn fetch_staged(baseA: u32, baseB: u32, row0: u32, col0: u32, k0: u32, t: u32) -> Staged {
  var s: Staged;
  s.a0 = fetchA(baseA, row0, k0, t, 0u);
  if (LOADS_A > 1u) { s.a1 = fetchA(baseA, row0, k0, t, 1u); }
  if (LOADS_A > 2u) { s.a2 = fetchA(baseA, row0, k0, t, 2u); }
  if (LOADS_A > 3u) { s.a3 = fetchA(baseA, row0, k0, t, 3u); }
  s.b0 = fetchB(baseB, col0, k0, t, 0u);
  if (LOADS_B > 1u) { s.b1 = fetchB(baseB, col0, k0, t, 1u); }
  if (LOADS_B > 2u) { s.b2 = fetchB(baseB, col0, k0, t, 2u); }
  if (LOADS_B > 3u) { s.b3 = fetchB(baseB, col0, k0, t, 3u); }
  return s;
}

fn put_staged(stage: u32, t: u32, s: Staged) {
  putA(stage, t, 0u, s.a0);
  if (LOADS_A > 1u) { putA(stage, t, 1u, s.a1); }
  if (LOADS_A > 2u) { putA(stage, t, 2u, s.a2); }
  if (LOADS_A > 3u) { putA(stage, t, 3u, s.a3); }
  putB(stage, t, 0u, s.b0);
  if (LOADS_B > 1u) { putB(stage, t, 1u, s.b1); }
  if (LOADS_B > 2u) { putB(stage, t, 2u, s.b2); }
  if (LOADS_B > 3u) { putB(stage, t, 3u, s.b3); }
}
