// Batched GEMM, f32: C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z], z = workgroup_id.z
// a: op(A) is (M, K); stored (M, K), or (K, M) when TRANS_A     batch stride p.strideA
// b: op(B) is (K, N); stored (K, N), or (N, K) when TRANS_B     batch stride p.strideB
// c: (M, N)                                                     batch stride p.strideC
// A workgroup owns a BM×BN tile of C and walks K in steps of BK through workgroup memory
// (STAGES buffers; the next step's tile is fetched into registers while this one is used).
// Each invocation owns 8×8 outputs: rows {ty*4+i, BM/2+ty*4+i}, cols {tx*4+j, BN/2+tx*4+j},
// i, j < 4, so every workgroup-memory read in the inner loop is one vec4.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
struct Params { M: u32, N: u32, K: u32, strideA: u32, strideB: u32, strideC: u32, alpha: f32, beta: f32 }
@group(0) @binding(3) var<uniform> p: Params;

override BM: u32 = 128u;
override BN: u32 = 128u;
override BK: u32 = 16u;
override STAGES: u32 = 1u;
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
override PAD_A: u32 = select(1u, 0u, TRANS_A);
override PAD_B: u32 = select(0u, 1u, TRANS_B);
override AS: u32 = BM / 4u + PAD_A;
override BS: u32 = BN / 4u + PAD_B;
override LOADS_A: u32 = BK * BM / (4u * THREADS);
override LOADS_B: u32 = BK * BN / (4u * THREADS);
const MAX_LOADS = 8u;

// As[s][k][m/4], Bs[s][k][n/4]
var<workgroup> As: array<vec4<f32>, STAGES * BK * AS>;
var<workgroup> Bs: array<vec4<f32>, STAGES * BK * BS>;

// the next step's tiles, held in registers while the current step computes
var<private> nextA: array<vec4<f32>, MAX_LOADS>;
var<private> nextB: array<vec4<f32>, MAX_LOADS>;

fn inside(x: u32, y: u32, xs: u32, ys: u32) -> bool {
  return !CHECK_BOUNDS || (x < xs && y < ys);
}

// Load i of invocation t covers 4 consecutive rows (m of A, n of B) at one k: (q = row/4, k).
// A row-contiguous operand (A^T stored, or B) puts neighbouring invocations on neighbouring q.
fn slot(t: u32, i: u32, rowContiguous: bool, rows: u32) -> vec2<u32> {
  let lin = t + i * THREADS;
  if (rowContiguous) { return vec2<u32>(lin % (rows / 4u), lin / (rows / 4u)); }
  return vec2<u32>(lin / BK, lin % BK);
}

// op(A) rows [row0, row0+BM) × k [k0, k0+BK) into nextA.
fn fetchA(base: u32, row0: u32, k0: u32, t: u32) {
  for (var i = 0u; i < LOADS_A; i++) {
    let qk = slot(t, i, TRANS_A, BM);
    let r = row0 + qk.x * 4u;
    let k = k0 + qk.y;
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
      if (inside(r + j, k, p.M, p.K)) {
        if (TRANS_A) { v[j] = a[base + k * p.M + r + j]; } else { v[j] = a[base + (r + j) * p.K + k]; }
      }
    }
    nextA[i] = v;
  }
}

// op(B) k [k0, k0+BK) × cols [col0, col0+BN) into nextB.
fn fetchB(base: u32, col0: u32, k0: u32, t: u32) {
  for (var i = 0u; i < LOADS_B; i++) {
    let qk = slot(t, i, !TRANS_B, BN);
    let n = col0 + qk.x * 4u;
    let k = k0 + qk.y;
    var v = vec4<f32>(0.0);
    for (var j = 0u; j < 4u; j++) {
      if (inside(n + j, k, p.N, p.K)) {
        if (TRANS_B) { v[j] = b[base + (n + j) * p.K + k]; } else { v[j] = b[base + k * p.N + n + j]; }
      }
    }
    nextB[i] = v;
  }
}

fn stash(stage: u32, t: u32) {
  for (var i = 0u; i < LOADS_A; i++) {
    let qk = slot(t, i, TRANS_A, BM);
    As[(stage * BK + qk.y) * AS + qk.x] = nextA[i];
  }
  for (var i = 0u; i < LOADS_B; i++) {
    let qk = slot(t, i, !TRANS_B, BN);
    Bs[(stage * BK + qk.y) * BS + qk.x] = nextB[i];
  }
}

fn store4(base: u32, row: u32, col: u32, v: vec4<f32>) {
  if (CHECK_BOUNDS && row >= p.M) { return; }
  let at = base + row * p.N + col;
  for (var j = 0u; j < 4u; j++) {
    if (!CHECK_BOUNDS || col + j < p.N) {
      var x = p.alpha * v[j];
      if (p.beta != 0.0) { x += p.beta * c[at + j]; }
      c[at + j] = x;
    }
  }
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  var tileM = wid.y;
  var tileN = wid.x;
  if (GROUP_M > 0u) {
    let pid = wid.x + wid.y * nwg.x;
    let perGroup = GROUP_M * nwg.x;
    let firstM = (pid / perGroup) * GROUP_M;
    let rows = min(nwg.y - firstM, GROUP_M);
    tileM = firstM + (pid % perGroup) % rows;
    tileN = (pid % perGroup) / rows;
  }
  let row0 = tileM * BM;
  let col0 = tileN * BN;
  let baseA = wid.z * p.strideA;
  let baseB = wid.z * p.strideB;
  let tx = lid.x;
  let ty = lid.y;
  let t = tx + ty * WX;

  var acc: array<vec4<f32>, 16>;
  let steps = (p.K + BK - 1u) / BK;
  fetchA(baseA, row0, 0u, t);
  fetchB(baseB, col0, 0u, t);
  stash(0u, t);
  workgroupBarrier();
  for (var s = 0u; s < steps; s++) {
    let more = s + 1u < steps;
    if (more) {
      fetchA(baseA, row0, (s + 1u) * BK, t);
      fetchB(baseB, col0, (s + 1u) * BK, t);
    }
    let cur = s % STAGES;
    let sa = cur * BK * AS;
    let sb = cur * BK * BS;
    for (var k = 0u; k < BK; k++) {
      let a0 = As[sa + k * AS + ty];
      let a1 = As[sa + k * AS + WY + ty];
      let b0 = Bs[sb + k * BS + tx];
      let b1 = Bs[sb + k * BS + WX + tx];
      acc[0] += a0.x * b0; acc[1] += a0.x * b1;
      acc[2] += a0.y * b0; acc[3] += a0.y * b1;
      acc[4] += a0.z * b0; acc[5] += a0.z * b1;
      acc[6] += a0.w * b0; acc[7] += a0.w * b1;
      acc[8] += a1.x * b0; acc[9] += a1.x * b1;
      acc[10] += a1.y * b0; acc[11] += a1.y * b1;
      acc[12] += a1.z * b0; acc[13] += a1.z * b1;
      acc[14] += a1.w * b0; acc[15] += a1.w * b1;
    }
    if (STAGES == 1u) { workgroupBarrier(); }
    if (more) { stash((s + 1u) % STAGES, t); }
    workgroupBarrier();
  }

  let baseC = wid.z * p.strideC;
  let c0 = col0 + tx * 4u;
  let c1 = col0 + BN / 2u + tx * 4u;
  for (var i = 0u; i < 4u; i++) {
    let r0 = row0 + ty * 4u + i;
    let r1 = row0 + BM / 2u + ty * 4u + i;
    store4(baseC, r0, c0, acc[2u * i]);
    store4(baseC, r0, c1, acc[2u * i + 1u]);
    store4(baseC, r1, c0, acc[8u + 2u * i]);
    store4(baseC, r1, c1, acc[8u + 2u * i + 1u]);
  }
}
