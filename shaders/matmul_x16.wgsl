// matmul_vec4.wgsl's product (same bindings, parameters, split-K, causal skipping and epilogues;
// 16-byte aligned operands) with 8×16 outputs per invocation instead of 8×8: half the
// invocations per tile (a 128×128 tile: 128, cuBLAS's FFMA kernels' count), 128 multiply-adds
// per k from 6 vec4 workgroup-memory reads (8×8: 64 from 4), 128 accumulators per invocation.
// a: op(A) is (M, K); stored (M, K), or (K, M) when TRANS_A     batch stride p.strideA
// b: op(B) is (K, N); stored (K, N), or (N, K) when TRANS_B     batch stride p.strideB
// c: (M, N)                                                     batch stride p.strideC
// bias: (N), aux: like C (lib/matmul_epilogue.wgsl)
// An invocation (tx, ty) owns rows {ty*4+i, BM/2+ty*4+i} and columns {j*BN/4+tx*4+l}, i, l, j < 4:
// a warp (8 × 4 invocations) reads 4 distinct vec4 of A and 8 of B (128 B) per read, one
// shared-memory wavefront each. The next K step waits in registers (lib/matmul_staging.wgsl);
// DOUBLE: two workgroup buffers and one barrier per K step (else one buffer, two barriers).

@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
struct Params { M: u32, N: u32, K: u32, strideA: u32, strideB: u32, strideC: u32, alpha: f32, beta: f32, kStep: u32, kLen: u32, causal: u32, splits: u32 }
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> aux: array<vec4<f32>>;

override BM: u32 = 128u;
override BN: u32 = 128u;
override BK: u32 = 16u;
override TRANS_A: bool = false;
override TRANS_B: bool = false;
// false only when every tile and K step is whole (M % BM, N % BN, kLen % BK all 0)
override CHECK_BOUNDS: bool = true;
// workgroups along M that share one sweep over N (L2 reuse); 0 = plain row-major order
override GROUP_M: u32 = 0u;
override KQ_FAST: bool = true;
// A stored (M, K) loaded as scalars, 4 rows at one k (lib/matmul_vec4_io.wgsl)
override SCALAR_A: bool = false;
override EPILOGUE: u32 = 0u;
override DOUBLE: bool = false;

override WX: u32 = BN / 16u;
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
// #include matmul_causal.wgsl
// #include matmul_epilogue.wgsl

@compute @workgroup_size(WX, WY)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = output_tile(wid, nwg); // (row, column)
  let row0 = causal_row_tile(tile.x, nwg.y) * BM;
  let col0 = tile.y * BN;
  if (causal_skip_tile(row0, col0)) { return; }
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

  // #include matmul_regs_8x16.wgsl
  var staged: Staged; // the next step's tiles

  let steps = (end - kBegin + BK - 1u) / BK;
  if (steps > 0u) { put_staged(0u, t, fetch_staged(baseA, baseB, row0, col0, kBegin, t)); }
  workgroupBarrier();
  for (var s = 0u; s < steps; s++) {
    let more = s + 1u < steps;
    if (more) { staged = fetch_staged(baseA, baseB, row0, col0, kBegin + (s + 1u) * BK, t); }
    let cur = select(0u, s % 2u, DOUBLE);
    let atA = cur * BK * AS + ty;
    let atB = cur * BK * BS + tx;
    for (var k = 0u; k < BK; k++) {
      let a0 = As[atA + k * AS];
      let a1 = As[atA + k * AS + WY];
      let b0 = Bs[atB + k * BS];
      let b1 = Bs[atB + k * BS + WX];
      let b2 = Bs[atB + k * BS + 2u * WX];
      let b3 = Bs[atB + k * BS + 3u * WX];
      // #include matmul_fma_8x16.wgsl
    }
    // one buffer: everyone must be done reading it before it is overwritten; two: the other
    // buffer was last read before the previous step's barrier
    if (!DOUBLE) { workgroupBarrier(); }
    if (more) { put_staged(select(0u, 1u - cur, DOUBLE), t, staged); }
    workgroupBarrier();
  }

  let baseC = wid.z * p.strideC;
  // #include matmul_store_8x16.wgsl
}
