// Backward of merge_heads: dy[b, h, t, d] = dout[b·T + t, h·hd + d].
// dout: (B*T, H*hd)   dy: (B, H, T, hd) overwritten

@group(0) @binding(0) var<storage, read> dout: array<f32>;
@group(0) @binding(1) var<storage, read_write> dy: array<f32>;
struct Params { b: u32, t: u32, h: u32, hd: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

// #include head_index.wgsl

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x; // index into (B, H, T, hd)
  let hd = params.hd;
  if (i >= params.b * params.h * params.t * hd) { return; }
  let at = head_index(i, params.h, params.t, hd);
  dy[i] = dout[(at.b * params.t + at.t) * params.h * hd + at.h * hd + at.d];
}
