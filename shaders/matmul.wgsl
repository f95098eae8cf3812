// Batched GEMM, f32: C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z], z = workgroup_id.z
// a: op(A) is (M, K); stored (M, K), or (K, M) when TRANS_A     batch stride p.strideA
// b: op(B) is (K, N); stored (K, N), or (N, K) when TRANS_B     batch stride p.strideB
// c: (M, N)                                                     batch stride p.strideC
// causal skips work a causal mask makes moot (lib/matmul_causal.wgsl).
// A workgroup owns a BM×BN tile of C and walks K in steps of BK through workgroup memory
// (STAGES buffers). With PREFETCH the next step's tiles wait in registers while this step
// computes; without it (STAGES = 2 only) they go straight to the idle buffer first.
// Each invocation owns 8×8 outputs: rows {ty*4+i, BM/2+ty*4+i}, cols {tx*4+j, BN/2+tx*4+j},
// i, j < 4, so every workgroup-memory read in the inner loop is one vec4.
// Registers are never indexed at run time (no loops over accumulators, loads or vector
// lanes): a driver that cannot unroll such a loop would move them to local memory.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
struct Params { M: u32, N: u32, K: u32, strideA: u32, strideB: u32, strideC: u32, alpha: f32, beta: f32, causal: u32 }
@group(0) @binding(3) var<uniform> p: Params;

override BM: u32 = 128u;
override BN: u32 = 128u;
override BK: u32 = 16u;
override STAGES: u32 = 1u;
override PREFETCH: bool = true;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
// false only when M % BM == 0, N % BN == 0 and K % BK == 0
override CHECK_BOUNDS: bool = true;
// workgroups along M that share one sweep over N (L2 reuse); 0 = plain row-major order
override GROUP_M: u32 = 0u;

override WX: u32 = BN / 8u;
override WY: u32 = BM / 8u;
override THREADS: u32 = WX * WY;
// a k-contiguous operand is written with stride-BK scatter: one vec4 of padding per row
// keeps those stores off a single bank
override AS: u32 = BM / 4u + select(1u, 0u, TRANS_A);
override BS: u32 = BN / 4u + select(0u, 1u, TRANS_B);
// vec4 loads per invocation per step, 1..4
override LOADS_A: u32 = BK * BM / (4u * THREADS);
override LOADS_B: u32 = BK * BN / (4u * THREADS);

// As[s][k][m/4], Bs[s][k][n/4]
var<workgroup> As: array<vec4<f32>, STAGES * BK * AS>;
var<workgroup> Bs: array<vec4<f32>, STAGES * BK * BS>;

// Load i of invocation t covers 4 consecutive rows (m of A, n of B) at one k: (q = row/4, k).
// A row-contiguous operand (A^T stored, or B) puts neighbouring invocations on neighbouring q.
fn slot(t: u32, i: u32, rowContiguous: bool, rows: u32) -> vec2<u32> {
  let lin = t + i * THREADS;
  if (rowContiguous) { return vec2<u32>(lin % (rows / 4u), lin / (rows / 4u)); }
  return vec2<u32>(lin / BK, lin % BK);
}

// Bounds checks are branch-free (select, non-short-circuit &): an out-of-range load reads
// element 0 and yields 0. CPU drivers (SwiftShader) compile branchy variants very slowly.

// op(A)[r, k]; 0 outside the matrix
fn ldA(base: u32, r: u32, k: u32) -> f32 {
  let at = select(base + r * p.K + k, base + k * p.M + r, TRANS_A);
  let ok = !CHECK_BOUNDS | ((r < p.M) & (k < p.K));
  return select(0.0, a[select(0u, at, ok)], ok);
}

// op(B)[k, n]; 0 outside the matrix
fn ldB(base: u32, k: u32, n: u32) -> f32 {
  let at = select(base + k * p.N + n, base + n * p.K + k, TRANS_B);
  let ok = !CHECK_BOUNDS | ((n < p.N) & (k < p.K));
  return select(0.0, b[select(0u, at, ok)], ok);
}

// load i of op(A) rows [row0, row0+BM) × k [k0, k0+BK)
fn fetchA(base: u32, row0: u32, k0: u32, t: u32, i: u32) -> vec4<f32> {
  let qk = slot(t, i, TRANS_A, BM);
  let r = row0 + qk.x * 4u;
  let k = k0 + qk.y;
  return vec4<f32>(ldA(base, r, k), ldA(base, r + 1u, k), ldA(base, r + 2u, k), ldA(base, r + 3u, k));
}

// load i of op(B) k [k0, k0+BK) × cols [col0, col0+BN)
fn fetchB(base: u32, col0: u32, k0: u32, t: u32, i: u32) -> vec4<f32> {
  let qk = slot(t, i, !TRANS_B, BN);
  let n = col0 + qk.x * 4u;
  let k = k0 + qk.y;
  return vec4<f32>(ldB(base, k, n), ldB(base, k, n + 1u), ldB(base, k, n + 2u), ldB(base, k, n + 3u));
}

fn putA(stage: u32, t: u32, i: u32, v: vec4<f32>) {
  let qk = slot(t, i, TRANS_A, BM);
  As[(stage * BK + qk.y) * AS + qk.x] = v;
}

fn putB(stage: u32, t: u32, i: u32, v: vec4<f32>) {
  let qk = slot(t, i, !TRANS_B, BN);
  Bs[(stage * BK + qk.y) * BS + qk.x] = v;
}

// #include matmul_staging.wgsl
// #include matmul_tile_order.wgsl
// #include matmul_causal.wgsl

// beta = 0 never reads C into the result (select), so NaN there does not leak
fn store1(at: u32, ok: bool, v: f32) {
  if (ok) { c[at] = p.alpha * v + select(0.0, p.beta * c[at], p.beta != 0.0); }
}

fn store4(base: u32, row: u32, col: u32, v: vec4<f32>) {
  let okRow = !CHECK_BOUNDS | (row < p.M);
  let at = base + row * p.N + col;
  store1(at, okRow & (!CHECK_BOUNDS | (col < p.N)), v.x);
  store1(at + 1u, okRow & (!CHECK_BOUNDS | (col + 1u < p.N)), v.y);
  store1(at + 2u, okRow & (!CHECK_BOUNDS | (col + 2u < p.N)), v.z);
  store1(at + 3u, okRow & (!CHECK_BOUNDS | (col + 3u < p.N)), v.w);
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = output_tile(wid, nwg); // (row, column)
  let row0 = causal_row_tile(tile.x, nwg.y) * BM;
  let col0 = tile.y * BN;
  if (causal_skip_tile(row0, col0)) { return; }
  let baseA = wid.z * p.strideA;
  let baseB = wid.z * p.strideB;
  let tx = lid.x;
  let ty = lid.y;
  let t = tx + ty * WX;

  // #include matmul_regs_8x8.wgsl
  var staged: Staged; // the next step's tiles

  let ks = causal_k_range(0u, p.K, row0); // whole BK steps from ks.x (BM % BK == 0)
  let steps = (ks.y - ks.x + BK - 1u) / BK;
  for (var s = 0u; s <= steps; s++) {
    // fetch step s into registers, then into buffer s % STAGES (before or after computing s-1)
    let fetch = s < steps;
    if (fetch) { staged = fetch_staged(baseA, baseB, row0, col0, ks.x + s * BK, t); }
    let next = s % STAGES;
    if (fetch && !PREFETCH) { put_staged(next, t, staged); }
    if (s > 0u) {
      let sa = ((s - 1u) % STAGES) * BK * AS;
      let sb = ((s - 1u) % STAGES) * BK * BS;
      for (var k = 0u; k < BK; k++) {
        let a0 = As[sa + k * AS + ty];
        let a1 = As[sa + k * AS + WY + ty];
        let b0 = Bs[sb + k * BS + tx];
        let b1 = Bs[sb + k * BS + WX + tx];
        // #include matmul_fma_8x8.wgsl
      }
    }
    // one buffer: everyone must be done reading before it is overwritten
    if (STAGES == 1u) { workgroupBarrier(); }
    if (fetch && PREFETCH) { put_staged(next, t, staged); }
    workgroupBarrier();
  }

  let baseC = wid.z * p.strideC;
  // #include matmul_store_8x8.wgsl
}
