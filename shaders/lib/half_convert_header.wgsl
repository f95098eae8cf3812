// pack_half / unpack_half: n values; `at` the packed buffer's first word (a tensor inside a larger
// packed vector); WG invocations a workgroup; FORMAT 0: fp16, 1: bf16.
struct Params { n: u32, at: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;
override FORMAT: u32 = 0u;

// #include half_bits.wgsl
