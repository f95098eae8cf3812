// Operand loads and output stores of the vec4 matmul kernels (matmul_vec4.wgsl):
// load i of invocation t from global memory (fetchA, fetchB), its store into workgroup buffer
// `stage` (putA, putB; BK·AS and BK·BS vec4 per buffer), and store4 of 4 outputs
// (lib/matmul_store4.wgsl). The includer declares a, b, c, p, As, Bs and the overrides BM, BN, BK, AS,
// BS, THREADS, TRANS_A, TRANS_B, CHECK_BOUNDS, KQ_FAST and fn epilogue (lib/matmul_epilogue.wgsl).

// where load i of invocation t sits in a step's tile of `rows` rows × BK: (row, k), the vec4
// covering rows row..row+3 at k (rowContiguous) or k..k+3 of row
fn place(t: u32, i: u32, rowContiguous: bool, rows: u32) -> vec2<u32> {
  let lin = t + i * THREADS;
  if (rowContiguous) { return vec2<u32>((lin % (rows / 4u)) * 4u, lin / (rows / 4u)); }
  if (KQ_FAST) { return vec2<u32>(lin / (BK / 4u), (lin % (BK / 4u)) * 4u); }
  return vec2<u32>(lin % rows, (lin / rows) * 4u);
}

fn fetchA(base: u32, row0: u32, k0: u32, t: u32, i: u32) -> vec4<f32> {
  let rk = place(t, i, TRANS_A, BM);
  let r = row0 + rk.x;
  let k = k0 + rk.y;
  let at = select(base + r * p.K + k, base + k * p.M + r, TRANS_A);
  let ok = !CHECK_BOUNDS | ((r < p.M) & (k < kEnd));
  return select(vec4<f32>(0.0), a[select(0u, at / 4u, ok)], ok);
}

fn fetchB(base: u32, col0: u32, k0: u32, t: u32, i: u32) -> vec4<f32> {
  let nk = place(t, i, !TRANS_B, BN);
  let n = col0 + nk.x;
  let k = k0 + nk.y;
  let at = select(base + k * p.N + n, base + n * p.K + k, TRANS_B);
  let ok = !CHECK_BOUNDS | ((n < p.N) & (k < kEnd));
  return select(vec4<f32>(0.0), b[select(0u, at / 4u, ok)], ok);
}

fn putA(stage: u32, t: u32, i: u32, v: vec4<f32>) {
  let rk = place(t, i, TRANS_A, BM);
  if (TRANS_A) {
    As[stage * BK * AS + rk.y * AS + rk.x / 4u] = v;
  } else {
    let at = stage * BK * AS + rk.y * AS + rk.x / 4u;
    let j = rk.x % 4u;
    As[at][j] = v.x; As[at + AS][j] = v.y; As[at + 2u * AS][j] = v.z; As[at + 3u * AS][j] = v.w;
  }
}

fn putB(stage: u32, t: u32, i: u32, v: vec4<f32>) {
  let nk = place(t, i, !TRANS_B, BN);
  if (!TRANS_B) {
    Bs[stage * BK * BS + nk.y * BS + nk.x / 4u] = v;
  } else {
    let at = stage * BK * BS + nk.y * BS + nk.x / 4u;
    let j = nk.x % 4u;
    Bs[at][j] = v.x; Bs[at + BS][j] = v.y; Bs[at + 2u * BS][j] = v.z; Bs[at + 3u * BS][j] = v.w;
  }
}

// #include matmul_store4.wgsl

// zeros into this invocation's 8×8 outputs of the tile at (row0, col0), laid out as
// lib/matmul_store_8x8.wgsl stores them (a causal tile the epilogue 'probsFromLse' does not compute)
fn store_zero_tile(base: u32, row0: u32, col0: u32, tx: u32, ty: u32) {
  for (var half = 0u; half < 2u; half++) {
    for (var i = 0u; i < 4u; i++) {
      let r = row0 + half * (BM / 2u) + ty * 4u + i;
      for (var side = 0u; side < 2u; side++) {
        let q = col0 + side * (BN / 2u) + tx * 4u;
        if (!CHECK_BOUNDS || (r < p.M && q < p.N)) { c[(base + r * p.N + q) / 4u] = vec4<f32>(0.0); }
      }
    }
  }
}

// the end of this workgroup's k range (set once by main)
var<private> kEnd: u32;
