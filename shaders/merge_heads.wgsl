// Merges per-head attention outputs back into rows: out[b·T + t, h·hd + d] = y[b, h, t, d].
// y: (B, H, T, hd)   out: (B*T, H*hd) overwritten

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
struct Params { b: u32, t: u32, h: u32, hd: u32 }
@group(0) @binding(2) var<uniform> params: Params;

override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.x + wid.y * nwg.x) * WG + lid.x; // index into (B*T, H*hd)
  let hd = params.hd;
  let C = params.h * hd;
  if (i >= params.b * params.t * C) { return; }
  let d = i % hd;
  let h = (i / hd) % params.h;
  let bt = i / C;
  let t = bt % params.t;
  let b = bt / params.t;
  out[i] = y[((b * params.h + h) * params.t + t) * hd + d];
}
