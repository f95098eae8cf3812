// matmul_vec4.wgsl's product (same bindings, parameters, split-K and epilogues; 16-byte aligned
// operands) with an inner loop laid out for a 32-wide subgroup (an NVIDIA warp):
// - warp tiling: the 32 invocations of one subgroup (consecutive local_invocation_index) form a
//   4 × 8 block of the 8×8-output invocation grid, so per k a warp reads 4 + 4 distinct vec4 of
//   A (64 B each) and 8 + 8 of B (128 B each): one shared-memory wavefront per read, 4 per k,
//   where the row-major 16 × 2 block of matmul_vec4.wgsl reads 256 B of B twice (6 per k);
// - explicit fma() for the 64 multiply-adds per k (a single FFMA each, whatever the driver's
//   contraction rules);
// - DOUBLE: two workgroup buffers and one barrier per K step (the step after next is fetched
//   into registers while this one is computed, then stored into the buffer not being read).
// a: op(A) is (M, K); stored (M, K), or (K, M) when TRANS_A     batch stride p.strideA
// b: op(B) is (K, N); stored (K, N), or (N, K) when TRANS_B     batch stride p.strideB
// c: (M, N)                                                     batch stride p.strideC

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
struct Params { M: u32, N: u32, K: u32, strideA: u32, strideB: u32, strideC: u32, alpha: f32, beta: f32, kStep: u32, kLen: u32 }
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> aux: array<vec4<f32>>;

override BM: u32 = 128u;
override BN: u32 = 128u;
override BK: u32 = 16u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override CHECK_BOUNDS: bool = true;
override GROUP_M: u32 = 0u;
override KQ_FAST: bool = true;
override EPILOGUE: u32 = 0u;
override DOUBLE: bool = true;

// invocations along N and M (BN / 8 a multiple of 8, BM / 8 of 4: whole 4 × 8 warp blocks)
override WX: u32 = BN / 8u;
override WY: u32 = BM / 8u;
override THREADS: u32 = WX * WY;
override AS: u32 = BM / 4u + select(1u, 0u, TRANS_A);
override BS: u32 = BN / 4u + select(0u, 1u, TRANS_B);
override LOADS_A: u32 = BK * BM / (4u * THREADS);
override LOADS_B: u32 = BK * BN / (4u * THREADS);
override BUFFERS: u32 = select(1u, 2u, DOUBLE);

// buffer i holds As[i·BK·AS + k·AS + m/4], Bs[i·BK·BS + k·BS + n/4]
var<workgroup> As: array<vec4<f32>, BUFFERS * BK * AS>;
var<workgroup> Bs: array<vec4<f32>, BUFFERS * BK * BS>;

// #include matmul_vec4_io.wgsl
// #include matmul_staging.wgsl
// #include matmul_tile_order.wgsl
// #include matmul_epilogue.wgsl

@compute @workgroup_size(THREADS)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let origin = output_tile(wid, nwg) * vec2<u32>(BM, BN); // first (row, column) of C
  let row0 = origin.x;
  let col0 = origin.y;
  let kFirst = wid.z * p.kStep;
  let kStop = min(p.K, kFirst + p.kLen);
  kEnd = kStop;
  let baseB = wid.z * p.strideB;
  let baseA = wid.z * p.strideA;
  // lane l of subgroup w: invocation column tx, row ty of the WX × WY grid
  let lane = t % 32u;
  let warp = t / 32u;
  let tx = (warp % (WX / 8u)) * 8u + lane % 8u;
  let ty = (warp / (WX / 8u)) * 4u + lane / 8u;

  // #include matmul_regs_8x8.wgsl
  var staged: Staged; // the next step's tiles

  let nSteps = (kStop - min(kFirst, kStop) + BK - 1u) / BK;
  if (nSteps > 0u) { put_staged(0u, t, fetch_staged(baseA, baseB, row0, col0, kFirst, t)); }
  workgroupBarrier();
  for (var s = 0u; s < nSteps; s++) {
    let more = s + 1u < nSteps;
    if (more) { staged = fetch_staged(baseA, baseB, row0, col0, kFirst + (s + 1u) * BK, t); }
    let cur = select(0u, s % 2u, DOUBLE);
    let atA = cur * BK * AS + ty;
    let atB = cur * BK * BS + tx;
    for (var k = 0u; k < BK; k++) {
      let a0 = As[atA + k * AS];
      let a1 = As[atA + k * AS + WY];
      let b0 = Bs[atB + k * BS];
      let b1 = Bs[atB + k * BS + WX];
      c00 = fma(vec4<f32>(a0.x), b0, c00); c01 = fma(vec4<f32>(a0.x), b1, c01);
      c10 = fma(vec4<f32>(a0.y), b0, c10); c11 = fma(vec4<f32>(a0.y), b1, c11);
      c20 = fma(vec4<f32>(a0.z), b0, c20); c21 = fma(vec4<f32>(a0.z), b1, c21);
      c30 = fma(vec4<f32>(a0.w), b0, c30); c31 = fma(vec4<f32>(a0.w), b1, c31);
      d00 = fma(vec4<f32>(a1.x), b0, d00); d01 = fma(vec4<f32>(a1.x), b1, d01);
      d10 = fma(vec4<f32>(a1.y), b0, d10); d11 = fma(vec4<f32>(a1.y), b1, d11);
      d20 = fma(vec4<f32>(a1.z), b0, d20); d21 = fma(vec4<f32>(a1.z), b1, d21);
      d30 = fma(vec4<f32>(a1.w), b0, d30); d31 = fma(vec4<f32>(a1.w), b1, d31);
    }
    // one buffer: everyone must be done reading it before it is overwritten; two: the other
    // buffer was last read before the previous step's barrier
    if (!DOUBLE) { workgroupBarrier(); }
    if (more) { put_staged(select(0u, 1u - cur, DOUBLE), t, staged); }
    workgroupBarrier();
  }

  let baseC = wid.z * p.strideC;
  // #include matmul_store_8x8.wgsl
}
