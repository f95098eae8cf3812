// Batched or split-K GEMM, f32, on 16-byte aligned operands (vec4 loads and stores; see
// matmul.wgsl for any shape): C[z] = epilogue(alpha · op(A[z]) · op(B[z]) + beta · C[z]).
// a: op(A) is (M, K); stored (M, K), or (K, M) when TRANS_A     batch stride p.strideA
// b: op(B) is (K, N); stored (K, N), or (N, K) when TRANS_B     batch stride p.strideB
// c: (M, N)                                                     batch stride p.strideC
// bias: (N), aux: like C (lib/matmul_epilogue.wgsl)
// M, N, K, the strides and the kStep/kLen below are multiples of 4 (in elements).
// Workgroup layer z is split j = z % splits of matrix b = z / splits: it computes over k in
// [j·kStep, j·kStep + kLen) ∩ [0, K) of op(A[b])·op(B[b]) and writes layer z of c (at z·strideC).
// A plain batch has splits 1 (kStep 0, kLen K); with split-K (splits > 1) c holds the splits'
// partial sums, reduced afterwards by matmul_splitk_reduce.wgsl or splitk_reduce_batched.wgsl.
// causal skips work a causal mask makes moot (lib/matmul_causal.wgsl).
// A workgroup owns a BM×BN tile of C (8×8 outputs per invocation, lib/matmul_regs_8x8.wgsl) and
// walks K in steps of BK through one workgroup buffer; the next step waits in registers.
// An operand whose stored rows run along K is loaded 4 k at a time and written transposed.

// #include matmul_vec4_bindings.wgsl

override BM: u32 = 128u;
override BN: u32 = 128u;
override BK: u32 = 16u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
// false only when every tile and K step is whole (M % BM, N % BN, kLen % BK all 0)
override CHECK_BOUNDS: bool = true;
// workgroups along M that share one sweep over N (L2 reuse); 0 = plain row-major order
override GROUP_M: u32 = 0u;
// k-contiguous loads: neighbouring invocations on neighbouring k quads (else on neighbouring rows)
override KQ_FAST: bool = true;
override EPILOGUE: u32 = 0u;

override WX: u32 = BN / 8u;
override WY: u32 = BM / 8u;
override THREADS: u32 = WX * WY;
// a transposed (k-contiguous) operand gets one vec4 of padding per k row (fewer bank conflicts)
override AS: u32 = BM / 4u + select(1u, 0u, TRANS_A);
override BS: u32 = BN / 4u + select(0u, 1u, TRANS_B);
override LOADS_A: u32 = BK * BM / (4u * THREADS);
override LOADS_B: u32 = BK * BN / (4u * THREADS);

// As[k][m/4], Bs[k][n/4]
var<workgroup> As: array<vec4<f32>, BK * AS>;
var<workgroup> Bs: array<vec4<f32>, BK * BS>;

// #include matmul_vec4_io.wgsl
// #include matmul_staging.wgsl
// #include matmul_tile_order.wgsl
// #include matmul_causal.wgsl
// #include matmul_epilogue.wgsl

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = output_tile(wid, nwg); // (row, column)
  let row0 = causal_row_tile(tile.x, nwg.y) * BM;
  let col0 = tile.y * BN;
  if (causal_skip_tile(row0, col0)) {
    // probabilities above the diagonal are 0: written, not computed
    if (EPILOGUE == 4u) { store_zero_tile(wid.z * p.strideC, row0, col0, lid.x, lid.y); }
    return;
  }
  // this workgroup's k range: its split of K (or all of it), cut to where op(A) can be nonzero
  let matrix = wid.z / p.splits;
  let zBegin = (wid.z % p.splits) * p.kStep;
  let ks = causal_k_range(zBegin, min(p.K, zBegin + p.kLen), row0);
  let kBegin = ks.x;
  let end = ks.y;
  kEnd = end;
  let tx = lid.x;
  let ty = lid.y;
  let t = tx + ty * WX;
  let baseA = matrix * p.strideA;
  let baseB = matrix * p.strideB;

  // #include matmul_regs_8x8.wgsl
  var staged: Staged; // the next step's tiles

  let steps = (end - kBegin + BK - 1u) / BK;
  for (var s = 0u; s <= steps; s++) {
    let fetch = s < steps;
    if (fetch) { staged = fetch_staged(baseA, baseB, row0, col0, kBegin + s * BK, t); }
    if (s > 0u) {
      for (var k = 0u; k < BK; k++) {
        let a0 = As[k * AS + ty];
        let a1 = As[k * AS + WY + ty];
        let b0 = Bs[k * BS + tx];
        let b1 = Bs[k * BS + WX + tx];
        // #include matmul_fma_8x8.wgsl
      }
    }
    // one buffer: everyone must be done reading it before it is overwritten
    workgroupBarrier();
    if (fetch) { put_staged(0u, t, staged); }
    workgroupBarrier();
  }

  let baseC = wid.z * p.strideC;
  // #include matmul_store_8x8.wgsl
}
