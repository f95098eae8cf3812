// Splits the fused QKV projection into per-head q, k, v and applies NeoX rotary
// embeddings (rotate_half style) to the first ROT dims of every q and k head.
// x' = x·cos + rotate_half(x)·sin, rotate_half(x) = cat(-x2, x1) over the rotary dims.
// qkv: (B, T, H, 3, hd) = (B*T, 3C)   rope: [cos (T, ROT/2) | sin (T, ROT/2)]
// q, k, v: (B, H, T, hd) overwritten

@group(0) @binding(0) var<storage, read> qkv: array<f32>;
@group(0) @binding(1) var<storage, read> rope: array<f32>;
@group(0) @binding(2) var<storage, read_write> q: array<f32>;
@group(0) @binding(3) var<storage, read_write> k: array<f32>;
@group(0) @binding(4) var<storage, read_write> v: array<f32>;
struct Params { b: u32, t: u32, h: u32, hd: u32, rot: u32 }
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 256u;

// #include head_index.wgsl

// element d of head vector at qkv[src..src+hd), rotated for position t
fn rotated(src: u32, d: u32, t: u32) -> f32 {
  let x = qkv[src + d];
  let half = params.rot / 2u;
  if (d >= params.rot) { return x; }
  let j = select(d - half, d, d < half);
  let cs = rope[t * half + j];
  let sn = rope[params.t * half + t * half + j];
  if (d < half) { return x * cs - qkv[src + d + half] * sn; }
  return x * cs + qkv[src + j] * sn;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x; // index into (B, H, T, hd)
  let hd = params.hd;
  if (i >= params.b * params.h * params.t * hd) { return; }
  let at = head_index(i, params.h, params.t, hd);
  let src = ((at.b * params.t + at.t) * params.h + at.h) * 3u * hd;
  q[i] = rotated(src, at.d, at.t);
  k[i] = rotated(src + hd, at.d, at.t);
  v[i] = qkv[src + 2u * hd + at.d];
}
