// 16-bit values packed two to a u32 → f32 (exact). FORMAT 0: fp16, 1: bf16.
// packed: u32, words [at, at + ceil(N/2)) read   x: f32 (N), written as its bits

@group(0) @binding(0) var<storage, read> packed: array<u32>;
@group(0) @binding(1) var<storage, read_write> x: array<u32>;
// #include half_convert_header.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let j = (wid.x + wid.y * nwg.x) * WG + lid.x;
  if (j >= params.n) { return; }
  x[j] = from_half_bits((packed[params.at + j / 2u] >> (16u * (j & 1u))) & 0xffffu);
}
