// Fused causal attention backward, pass 1 of 2: dq, and D = rowsum(dO ∘ o) for pass 2.
// With P = exp(scale · q kᵀ - lse) (causal), dP = dO vᵀ, dS = P ∘ (dP - D):  dq = scale · dS k.
// One workgroup per (block of OWN query rows, b·h), walking the key blocks up to the diagonal
// (lib/attention_tiles.wgsl has the tiling).
// q, k, v, o, dout: (BH, T, hd)   lse: (BH, T)   dq: (BH, T, hd) overwritten   dsum: (BH, T) overwritten (D)

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> o: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> dout: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> lse: array<f32>;
@group(0) @binding(6) var<storage, read_write> dq: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> dsum: array<f32>;
struct Params { t: u32, hd4: u32, scale: f32 }
@group(0) @binding(8) var<uniform> p: Params;

override TX: u32 = 8u;
override TY: u32 = 4u;
override HQ: u32 = 16u;
// regions of sm: q and dO (OWN rows), k and v (OTHER rows), dS (OTHER × TY), lse and D of own rows
override SM_Q: u32 = 0u;
override SM_DO: u32 = OWN * RS;
override SM_K: u32 = 2u * OWN * RS;
override SM_V: u32 = SM_K + OTHER * RS;
override SM_DS: u32 = SM_V + OTHER * RS;
override SM_ROWS: u32 = SM_DS + OTHER * TY;
override SM_QUADS: u32 = SM_ROWS + 2u * TY;

// #include attention_tiles.wgsl
// #include attention_q_dout.wgsl

@compute @workgroup_size(TX, TY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let T = p.t;
  let row0 = (nwg.x - 1u - wid.x) * OWN; // the longest rows first
  let bh = wid.y;
  let tx = lid.x;
  let ty = lid.y;
  load_q_dout(SM_Q, SM_DO, bh, row0, OWN, tx + ty * TX);
  workgroupBarrier();
  if (tx == 0u) {
    var rowLse = vec4<f32>(0.0);
    var rowD = vec4<f32>(0.0);
    for (var i = 0u; i < 4u; i++) {
      let row = row0 + ty * 4u + i;
      var d = 0.0;
      for (var d4 = 0u; d4 < HQ; d4++) {
        let at = quad_at(bh, row, d4);
        d += dot(sm[SM_DO + (ty * 4u + i) * RS + d4], select(vec4<f32>(0.0), o[at.x], at.y == 1u));
      }
      rowD[i] = d;
      if (row < T) {
        rowLse[i] = lse[bh * T + row];
        dsum[bh * T + row] = d;
      }
    }
    sm[SM_ROWS + ty] = rowLse;
    sm[SM_ROWS + TY + ty] = rowD;
  }
  var acc: RowQuads;
  let blocks = min((T + OTHER - 1u) / OTHER, (row0 + OWN - 1u) / OTHER + 1u);
  for (var kb = 0u; kb < blocks; kb++) {
    workgroupBarrier();
    load_kv(SM_K, SM_V, bh, kb * OTHER, OTHER, tx + ty * TX);
    workgroupBarrier();
    let rowLse = sm[SM_ROWS + ty];
    let rowD = sm[SM_ROWS + TY + ty];
    let key0 = kb * OTHER;
    let s = dots_4x4(SM_Q, SM_K, tx, ty);
    let dp = dots_4x4(SM_DO, SM_V, tx, ty);
    var ds: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) {
      let ok = causal_keys(key0, tx, row0 + ty * 4u + i);
      let pr = select(vec4<f32>(0.0), exp(p.scale * s[i] - vec4<f32>(rowLse[i])), ok);
      ds[i] = p.scale * pr * (dp[i] - vec4<f32>(rowD[i]));
    }
    put_transposed(SM_DS, ds, tx, ty);
    workgroupBarrier();
    acc = accumulate(acc, SM_DS, SM_K, OTHER, tx, ty);
  }
  for (var i = 0u; i < 4u; i++) {
    for (var q4 = 0u; q4 < 4u; q4++) {
      let at = quad_at(bh, row0 + ty * 4u + i, tx + q4 * TX);
      if (q4 < OQ && at.y == 1u) { dq[at.x] = acc[q4][i]; }
    }
  }
}
