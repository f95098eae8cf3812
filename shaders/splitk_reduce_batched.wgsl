// Batched split-K, second pass: c[b] = alpha · Σ_s partial[b·S + s] + beta · c[b], the splits of
// each matrix added in order s = 0, 1, ... (deterministic). One invocation per 4 adjacent outputs.
// partial: (batch·S, M, N)   c: (batch, M, N), matrix b at b·strideC
// quads: M·N/4 per matrix; strideC in vec4s (M, N, the stride multiples of 4)

@group(0) @binding(0) var<storage, read> partial: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> c: array<vec4<f32>>;
struct Params { quads: u32, batch: u32, splits: u32, strideC: u32, alpha: f32, beta: f32 }
@group(0) @binding(2) var<uniform> p: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let g = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (g >= p.quads * p.batch) { return; }
  let b = g / p.quads;
  let i = g % p.quads;
  let first = b * p.splits * p.quads + i;
  var s = partial[first];
  for (var z = 1u; z < p.splits; z++) { s += partial[first + z * p.quads]; }
  var y = p.alpha * s;
  let at = b * p.strideC + i;
  if (p.beta != 0.0) { y += p.beta * c[at]; }
  c[at] = y;
}
