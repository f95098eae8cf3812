// Backward of qkv_split_fwd: gathers dq, dk, dv back into the fused (B*T, 3C) layout,
// applying the transpose of the rotary rotation (rotation by -angle) to dq and dk.
// dq, dk, dv: (B, H, T, hd)   rope: [cos (T, ROT/2) | sin (T, ROT/2)]
// dqkv: (B, T, H, 3, hd) = (B*T, 3C) overwritten

@group(0) @binding(0) var<storage, read> dq: array<f32>;
@group(0) @binding(1) var<storage, read> dk: array<f32>;
@group(0) @binding(2) var<storage, read> dv: array<f32>;
@group(0) @binding(3) var<storage, read> rope: array<f32>;
@group(0) @binding(4) var<storage, read_write> dqkv: array<f32>;
struct Params { b: u32, t: u32, h: u32, hd: u32, rot: u32 }
@group(0) @binding(5) var<uniform> params: Params;

override WG: u32 = 256u;

fn grad_in(which: u32, idx: u32) -> f32 {
  if (which == 0u) { return dq[idx]; }
  return dk[idx];
}

// element d of the input gradient for head vector at (which)[base..base+hd), position t
fn unrotated(which: u32, base: u32, d: u32, t: u32) -> f32 {
  let g = grad_in(which, base + d);
  let half = params.rot / 2u;
  if (d >= params.rot) { return g; }
  let j = select(d - half, d, d < half);
  let cs = rope[t * half + j];
  let sn = rope[params.t * half + t * half + j];
  if (d < half) { return g * cs + grad_in(which, base + d + half) * sn; }
  return g * cs - grad_in(which, base + j) * sn;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x; // index into (B, T, H, 3, hd)
  let hd = params.hd;
  if (i >= params.b * params.t * params.h * 3u * hd) { return; }
  let d = i % hd;
  let s = (i / hd) % 3u;
  let h = (i / (3u * hd)) % params.h;
  let bt = i / (3u * hd * params.h);
  let t = bt % params.t;
  let b = bt / params.t;
  let base = ((b * params.h + h) * params.t + t) * hd;
  if (s == 2u) {
    dqkv[i] = dv[base + d];
  } else {
    dqkv[i] = unrotated(s, base, d, t);
  }
}
