// f32 → 16-bit values packed two to a u32: element 2i in the low half of word i, 2i+1 in the
// high half (the bytes are those of a little-endian u16 array). FORMAT 0: fp16, 1: bf16.
// x: f32 (N), read as its bits   packed: u32, words [at, at + ceil(N/2)) written

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> packed: array<u32>;
// #include half_convert_header.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let w = (wid.x + wid.y * nwg.x) * WG + lid.x;
  let j = 2u * w;
  if (j >= params.n) { return; }
  let lo = to_half_bits(x[j]);
  let hi = select(0u, to_half_bits(x[min(j + 1u, params.n - 1u)]), j + 1u < params.n);
  packed[params.at + w] = lo | (hi << 16u);
}
