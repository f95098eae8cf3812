// Fused causal attention forward (online softmax; no T×T buffer):
// o[i] = Σ_{j ≤ i} softmax_j(scale · q_i·k_j) v_j,   lse[i] = log Σ_{j ≤ i} exp(scale · q_i·k_j).
// One workgroup per (block of OWN query rows, b·h), walking the key blocks (OTHER keys each) up
// to the diagonal (lib/attention_tiles.wgsl has the tiling).
// q, k, v: (BH, T, hd)   o: (BH, T, hd) overwritten   lse: (BH, T) overwritten

@group(0) @binding(0) var<storage, read> q: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> o: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> lse: array<f32>;
struct Params { t: u32, hd4: u32, scale: f32 }
@group(0) @binding(5) var<uniform> p: Params;

override TX: u32 = 8u;
override TY: u32 = 8u;
override HQ: u32 = 16u;
// regions of sm: Q (OWN rows), K and V (OTHER rows), probabilities (OTHER × TY), row partials
override SM_Q: u32 = 0u;
override SM_K: u32 = OWN * RS;
override SM_V: u32 = SM_K + OTHER * RS;
override SM_P: u32 = SM_V + OTHER * RS;
override SM_RED: u32 = SM_P + OTHER * TY;
override SM_QUADS: u32 = SM_RED + OWN * TX / 4u;

// #include attention_tiles.wgsl

// partial value of own row r from invocation tx (one f32 each)
fn set_partial(r: u32, tx: u32, x: f32) {
  let e = r * TX + tx;
  sm[SM_RED + e / 4u][e % 4u] = x;
}

// the partials of own row r combined in order tx = 0, 1, ...: their max or their sum
fn row_total(r: u32, take_max: bool) -> f32 {
  var total = 0.0;
  for (var u = 0u; u < TX; u++) {
    let e = r * TX + u;
    let x = sm[SM_RED + e / 4u][e % 4u];
    total = select(select(total + x, x, u == 0u), max(total, x), take_max && u > 0u);
  }
  return total;
}

@compute @workgroup_size(TX, TY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let T = p.t;
  let row0 = (nwg.x - 1u - wid.x) * OWN; // the longest rows first
  let bh = wid.y;
  let tx = lid.x;
  let ty = lid.y;
  for (var e = tx + ty * TX; e < OWN * HQ; e += THREADS) {
    let at = quad_at(bh, row0 + e / HQ, e % HQ);
    sm[SM_Q + (e / HQ) * RS + e % HQ] = select(vec4<f32>(0.0), q[at.x], at.y == 1u);
  }
  var acc: RowQuads;
  var m = vec4<f32>(LOWEST); // running max of own rows ty*4 + i
  var l = vec4<f32>(0.0); // this invocation's part of Σ exp(s - m)
  let blocks = min((T + OTHER - 1u) / OTHER, (row0 + OWN - 1u) / OTHER + 1u);
  for (var kb = 0u; kb < blocks; kb++) {
    workgroupBarrier();
    load_kv(SM_K, SM_V, bh, kb * OTHER, OTHER, tx + ty * TX);
    workgroupBarrier();
    let key0 = kb * OTHER;
    var s = dots_4x4(SM_Q, SM_K, tx, ty);
    for (var i = 0u; i < 4u; i++) {
      s[i] = select(vec4<f32>(LOWEST), p.scale * s[i], causal_keys(key0, tx, row0 + ty * 4u + i));
      set_partial(ty * 4u + i, tx, max(max(s[i].x, s[i].y), max(s[i].z, s[i].w)));
    }
    workgroupBarrier();
    var mNew = m;
    for (var i = 0u; i < 4u; i++) { mNew[i] = max(m[i], row_total(ty * 4u + i, true)); }
    let alpha = exp(m - mNew);
    m = mNew;
    for (var i = 0u; i < 4u; i++) {
      s[i] = exp(s[i] - vec4<f32>(mNew[i]));
      l[i] = l[i] * alpha[i] + (s[i].x + s[i].y) + (s[i].z + s[i].w);
      for (var q4 = 0u; q4 < 4u; q4++) { acc[q4][i] *= alpha[i]; }
    }
    put_transposed(SM_P, s, tx, ty);
    workgroupBarrier();
    acc = accumulate(acc, SM_P, SM_V, OTHER, tx, ty);
  }
  workgroupBarrier();
  for (var i = 0u; i < 4u; i++) { set_partial(ty * 4u + i, tx, l[i]); }
  workgroupBarrier();
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + ty * 4u + i;
    let total = row_total(ty * 4u + i, false);
    for (var q4 = 0u; q4 < 4u; q4++) {
      let at = quad_at(bh, row, tx + q4 * TX);
      if (q4 < OQ && at.y == 1u) { o[at.x] = acc[q4][i] / total; }
    }
    if (tx == 0u && row < T) { lse[bh * T + row] = m[i] + log(total); }
  }
}
