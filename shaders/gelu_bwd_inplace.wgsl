// GELU backward in place: g = g * d/dx gelu(x), exact (erf) form (the f16 linear products of
// model/linear.ts write dL/dgelu into g, then this turns it into dL/dx without a scratch tensor).
// inp: (N)   g: (N) read and overwritten

@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read_write> g: array<f32>;
struct Params { n: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

// #include gelu.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= params.n) { return; }
  g[i] *= gelu_grad(inp[i]);
}
