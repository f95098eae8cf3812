// GELU backward: dinp = dout * d/dx gelu(x), exact (erf) form.
// inp: (N)   dout: (N)   dinp: (N)  (overwritten)

@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read_write> dinp: array<f32>;
struct Params { n: u32 }
@group(0) @binding(3) var<uniform> params: Params;

override WG: u32 = 256u;

// #include gelu.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (i >= params.n) { return; }
  dinp[i] = dout[i] * gelu_grad(inp[i]);
}
