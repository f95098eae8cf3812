// Σ g², pass 2 of 2: one workgroup adds the NP partial sums in a fixed order.
// partials: (NP)   out: (1) overwritten

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
struct Params { np: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

alias RowSum = f32;
// #include workgroup_sum.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  for (var i = lid.x; i < params.np; i += WG) { s += partials[i]; }
  let total = workgroup_sum(s, lid.x);
  if (lid.x == 0u) { out[0] = total; }
}
