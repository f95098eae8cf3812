// Σ g² over a flat gradient buffer, pass 1 of 2 (deterministic, no atomics): workgroup w
// sums elements w·WG + lid + k·(NP·WG) for k = 0, 1, ... then a fixed tree reduces the
// workgroup to partials[w]. Elements in the skip ranges [s0_lo, s0_hi) and [s1_lo, s1_hi)
// are left out (another rank counts them: TP-replicated tensors, a pipeline's tied copy).
// grads: (P)   partials: (NP)

@group(0) @binding(0) var<storage, read> grads: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
struct Params { p: u32, np: u32, s0_lo: u32, s0_hi: u32, s1_lo: u32, s1_hi: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

alias RowSum = f32;
// #include workgroup_sum.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let stride = params.np * WG;
  var s = 0.0;
  for (var i = wid.x * WG + lid.x; i < params.p; i += stride) {
    let skipped = (i >= params.s0_lo && i < params.s0_hi) || (i >= params.s1_lo && i < params.s1_hi);
    if (!skipped) { let g = grads[i]; s += g * g; }
  }
  let total = workgroup_sum(s, lid.x);
  if (lid.x == 0u) { partials[wid.x] = total; }
}
