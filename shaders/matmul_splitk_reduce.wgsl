// Split-K, second pass: C = epilogue(alpha · Σ_z partial[z] + beta · C), the splits added in
// order z = 0, 1, ... (deterministic). One invocation per 4 adjacent outputs of a row.
// partial: (S, M, N)   c: (M, N)   bias: (N)   aux: like C (lib/matmul_epilogue.wgsl)

@group(0) @binding(0) var<storage, read> partial: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> c: array<vec4<f32>>;
struct Params { quads: u32, n: u32, splits: u32, alpha: f32, beta: f32 }
@group(0) @binding(2) var<uniform> p: Params;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> aux: array<vec4<f32>>;

override WG: u32 = 256u;
override EPILOGUE: u32 = 0u;

// #include matmul_epilogue.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x; // quad index into (M, N/4)
  if (i >= p.quads) { return; }
  var s = partial[i];
  for (var z = 1u; z < p.splits; z++) { s += partial[z * p.quads + i]; }
  var y = p.alpha * s;
  if (p.beta != 0.0) { y += p.beta * c[i]; }
  c[i] = epilogue(y, i, (i * 4u) % p.n);
}
