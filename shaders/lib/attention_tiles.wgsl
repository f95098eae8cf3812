// Tiles of the fused causal attention kernels. A workgroup of TX × TY invocations holds row
// blocks of (BH, T, hd) tensors in one workgroup array `sm`, each row HQ vec4 (the head dim,
// zero-padded) plus one vec4 of padding (row stride RS). Invocation (tx, ty) owns 4 rows
// ty*4+i of its workgroup's own block (OWN = 4·TY rows) against 4 rows tx + TX·j of the other
// block (OTHER = 4·TX rows), and the head-dim quads tx + TX·m (m < OQ) of its own rows' outputs.
// The includer declares `override TX, TY, HQ: u32` (HQ = TX · OQ, OQ in {1, 2, 4}),
// `override SM_QUADS: u32` (the size of sm) and a uniform `p` with fields t (T) and hd4 (hd/4).

override OWN: u32 = 4u * TY;
override OTHER: u32 = 4u * TX;
override THREADS: u32 = TX * TY;
override RS: u32 = HQ + 1u;
override OQ: u32 = HQ / TX;
const LOWEST: f32 = -3.4028234e38;

var<workgroup> sm: array<vec4<f32>, SM_QUADS>;

// 4 rows × OQ head-dim quads of an output, indexed [m][i]
alias RowQuads = array<array<vec4<f32>, 4>, 4>;

// (vec4 index of quad d4 of row `row` of head bh, 1 if that quad exists else 0)
fn quad_at(bh: u32, row: u32, d4: u32) -> vec2<u32> {
  let ok = row < p.t && d4 < p.hd4;
  return vec2<u32>(select(0u, (bh * p.t + row) * p.hd4 + d4, ok), select(0u, 1u, ok));
}

// s[i][j] = Σ_d sm[a + (ty*4+i)·RS + d] · sm[b + (tx+TX·j)·RS + d]: own rows against other rows
fn dots_4x4(a: u32, b: u32, tx: u32, ty: u32) -> array<vec4<f32>, 4> {
  var s: array<vec4<f32>, 4>;
  for (var d = 0u; d < HQ; d++) {
    let k0 = sm[b + tx * RS + d];
    let k1 = sm[b + (tx + TX) * RS + d];
    let k2 = sm[b + (tx + 2u * TX) * RS + d];
    let k3 = sm[b + (tx + 3u * TX) * RS + d];
    for (var i = 0u; i < 4u; i++) {
      let x = sm[a + (ty * 4u + i) * RS + d];
      s[i] += vec4<f32>(dot(x, k0), dot(x, k1), dot(x, k2), dot(x, k3));
    }
  }
  return s;
}

// acc[m][i] += Σ_{j < rows} sm[w + j·TY + ty][i] · sm[b + j·RS + tx + TX·m]: weights of own rows
// (stored transposed, one vec4 per (j, ty)) times rows j of another block
fn accumulate(acc: RowQuads, w: u32, b: u32, rows: u32, tx: u32, ty: u32) -> RowQuads {
  var r = acc;
  for (var j = 0u; j < rows; j++) {
    let pr = sm[w + j * TY + ty];
    for (var m = 0u; m < 4u; m++) {
      if (m < OQ) {
        let x = sm[b + j * RS + tx + m * TX];
        r[m][0] += pr.x * x; r[m][1] += pr.y * x; r[m][2] += pr.z * x; r[m][3] += pr.w * x;
      }
    }
  }
  return r;
}

// writes s[i][j] (own row i, other row j) transposed: sm[w + (tx + TX·j)·TY + ty][i]
fn put_transposed(w: u32, s: array<vec4<f32>, 4>, tx: u32, ty: u32) {
  for (var j = 0u; j < 4u; j++) {
    sm[w + (tx + j * TX) * TY + ty] = vec4<f32>(s[0][j], s[1][j], s[2][j], s[3][j]);
  }
}

// rows row0.. of a (BH, T, hd) tensor's head bh into sm regions, OWN or OTHER rows (zero-padded)
fn load_kv(kr: u32, vr: u32, bh: u32, row0: u32, rows: u32, t: u32) {
  for (var e = t; e < rows * HQ; e += THREADS) {
    let at = quad_at(bh, row0 + e / HQ, e % HQ);
    sm[kr + (e / HQ) * RS + e % HQ] = select(vec4<f32>(0.0), k[at.x], at.y == 1u);
    sm[vr + (e / HQ) * RS + e % HQ] = select(vec4<f32>(0.0), v[at.x], at.y == 1u);
  }
}

// which of the keys key0 + tx + TX·j (j < 4) query `row` attends to: key ≤ row, key < T
fn causal_keys(key0: u32, tx: u32, row: u32) -> vec4<bool> {
  let keys = vec4<u32>(key0 + tx) + vec4<u32>(0u, TX, 2u * TX, 3u * TX);
  return (keys <= vec4<u32>(row)) & (keys < vec4<u32>(p.t));
}
