// Fused causal attention backward, pass 2 of 2: dk and dv (after attention_bwd_dq.wgsl wrote D).
// With P = exp(scale · q kᵀ - lse) (causal), dP = dO vᵀ, dS = P ∘ (dP - D):
// dv = Pᵀ dO, dk = scale · dSᵀ q. One workgroup per (block of OWN key rows, b·h), walking the
// query blocks from the diagonal to T (lib/attention_tiles.wgsl has the tiling; here "own" rows
// are keys and "other" rows queries).
// q, k, v, dout: (BH, T, hd)   lse, dsum: (BH, T)   dk, dv: (BH, T, hd) overwritten

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> lse: array<f32>;
@group(0) @binding(5) var<storage, read> dsum: array<f32>;
@group(0) @binding(6) var<storage, read_write> dk: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dv: array<vec4<f32>>;
struct Params { t: u32, hd4: u32, scale: f32 }
@group(0) @binding(8) var<uniform> p: Params;

override TX: u32 = 8u;
override TY: u32 = 4u;
override HQ: u32 = 16u;
// regions of sm: k and v (OWN rows), q and dO (OTHER rows), P and dS (OTHER × TY each)
override SM_K: u32 = 0u;
override SM_V: u32 = OWN * RS;
override SM_Q: u32 = 2u * OWN * RS;
override SM_DO: u32 = SM_Q + OTHER * RS;
override SM_P: u32 = SM_DO + OTHER * RS;
override SM_DS: u32 = SM_P + OTHER * TY;
override SM_QUADS: u32 = SM_DS + OTHER * TY;

// #include attention_tiles.wgsl
// #include attention_q_dout.wgsl

@compute @workgroup_size(TX, TY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let T = p.t;
  let key0 = wid.x * OWN;
  let bh = wid.y;
  let tx = lid.x;
  let ty = lid.y;
  load_kv(SM_K, SM_V, bh, key0, OWN, tx + ty * TX);
  var accK: RowQuads;
  var accV: RowQuads;
  let last = (T + OTHER - 1u) / OTHER;
  for (var qb = key0 / OTHER; qb < last; qb++) {
    let q0 = qb * OTHER;
    workgroupBarrier();
    load_q_dout(SM_Q, SM_DO, bh, q0, OTHER, tx + ty * TX);
    workgroupBarrier();
    let queries = vec4<u32>(q0 + tx) + vec4<u32>(0u, TX, 2u * TX, 3u * TX);
    let live = queries < vec4<u32>(T);
    let at = select(vec4<u32>(0u), vec4<u32>(bh * T) + queries, live);
    let qLse = vec4<f32>(lse[at.x], lse[at.y], lse[at.z], lse[at.w]);
    let qD = vec4<f32>(dsum[at.x], dsum[at.y], dsum[at.z], dsum[at.w]);
    let s = dots_4x4(SM_K, SM_Q, tx, ty);
    let dp = dots_4x4(SM_V, SM_DO, tx, ty);
    var pt: array<vec4<f32>, 4>;
    var ds: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) {
      let key = key0 + ty * 4u + i;
      let ok = (vec4<u32>(key) <= queries) & live & vec4<bool>(key < T);
      pt[i] = select(vec4<f32>(0.0), exp(p.scale * s[i] - qLse), ok);
      ds[i] = p.scale * pt[i] * (dp[i] - qD);
    }
    put_transposed(SM_P, pt, tx, ty);
    put_transposed(SM_DS, ds, tx, ty);
    workgroupBarrier();
    accV = accumulate(accV, SM_P, SM_DO, OTHER, tx, ty);
    accK = accumulate(accK, SM_DS, SM_Q, OTHER, tx, ty);
  }
  for (var i = 0u; i < 4u; i++) {
    for (var q4 = 0u; q4 < 4u; q4++) {
      let at = quad_at(bh, key0 + ty * 4u + i, tx + q4 * TX);
      if (q4 < OQ && at.y == 1u) {
        dk[at.x] = accK[q4][i];
        dv[at.x] = accV[q4][i];
      }
    }
  }
}
