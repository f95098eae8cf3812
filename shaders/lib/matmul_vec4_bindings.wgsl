// The bindings and Params of the f32 vec4 matmul kernels (matmul_vec4.wgsl, matmul_direct.wgsl):
// A, B, C as vec4 arrays, the uniform Params (matmul-spec.ts productParams, then kStep, kLen, causal,
// splits), and the epilogue's bias and aux (lib/matmul_epilogue.wgsl).
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
struct Params {
  M: u32, N: u32, K: u32, strideA: u32, strideB: u32, strideC: u32, alpha: f32, beta: f32,
  kStep: u32, kLen: u32, causal: u32, splits: u32,
}
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> aux: array<vec4<f32>>;
