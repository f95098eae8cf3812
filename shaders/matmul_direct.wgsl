// GEMM for CPU fallback adapters (SwiftShader), f32, on 16-byte aligned operands, with
// matmul_vec4.wgsl's bindings, Params and epilogues: C[z] = epilogue(alpha · op(A[z]) · op(B[z]) + beta · C[z]).
// a: op(A) is (M, K); stored (M, K), or (K, M) when TRANS_A     batch stride p.strideA
// b: op(B) is (K, N); stored (K, N), or (N, K) when TRANS_B     batch stride p.strideB
// c: (M, N)                                                     batch stride p.strideC
// M, N, K, the strides and kStep/kLen are multiples of 4 (in elements); layer z is split
// z % p.splits of matrix z / p.splits over k in [j·kStep, j·kStep + kLen), as in matmul_vec4.wgsl.
// Each invocation owns 4×4 outputs (rows row..row+3, columns col..col+3) and reads its operands
// straight from global memory, 4 k at a time: no workgroup memory and no barriers. On a CPU device
// that compiles about 10× faster than the tiled kernels (seconds less start-up in every tab) and
// runs no slower. The k order of each sum is the tiled kernels' (k ascending, one product at a time).
// causal (lib/matmul_causal.wgsl) applies to each invocation's 4 rows, as to a tile of BM = 4.

// #include matmul_vec4_bindings.wgsl

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override EPILOGUE: u32 = 0u;
const CHECK_BOUNDS = true;
// one invocation's rows, the causal tile height
const BM = 4u;
// a workgroup: WX × WY invocations, 4·WY rows × 4·WX columns of C
const WX = 8u;
const WY = 8u;

// #include matmul_causal.wgsl
// #include matmul_epilogue.wgsl
// #include matmul_store4.wgsl

// op(A)[row + i][k + j] as rows i of a 4×4 block (vec4 over j)
fn load_a(base: u32, row: u32, k: u32) -> mat4x4<f32> {
  if (TRANS_A) {
    // stored (K, M): one vec4 per k holds the 4 rows
    let s = base + k * p.M + row;
    return transpose(mat4x4<f32>(a[s / 4u], a[(s + p.M) / 4u], a[(s + 2u * p.M) / 4u], a[(s + 3u * p.M) / 4u]));
  }
  let s = base + row * p.K + k;
  return mat4x4<f32>(a[s / 4u], a[(s + p.K) / 4u], a[(s + 2u * p.K) / 4u], a[(s + 3u * p.K) / 4u]);
}

// op(B)[k + j][col + i] as rows j of a 4×4 block (vec4 over the 4 columns)
fn load_b(base: u32, k: u32, col: u32) -> mat4x4<f32> {
  if (TRANS_B) {
    // stored (N, K): one vec4 per column holds the 4 k
    let s = base + col * p.K + k;
    return transpose(mat4x4<f32>(b[s / 4u], b[(s + p.K) / 4u], b[(s + 2u * p.K) / 4u], b[(s + 3u * p.K) / 4u]));
  }
  let s = base + k * p.N + col;
  return mat4x4<f32>(b[s / 4u], b[(s + p.N) / 4u], b[(s + 2u * p.N) / 4u], b[(s + 3u * p.N) / 4u]);
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.y * 4u;
  let col = gid.x * 4u;
  if (row >= p.M || col >= p.N) { return; }
  let baseC = gid.z * p.strideC;
  if (causal_skip_tile(row, col)) {
    if (EPILOGUE == 4u) {
      for (var i = 0u; i < 4u; i++) { c[(baseC + (row + i) * p.N + col) / 4u] = vec4<f32>(0.0); }
    }
    return;
  }
  let matrix = gid.z / p.splits;
  let zBegin = (gid.z % p.splits) * p.kStep;
  let ks = causal_k_range(zBegin, min(p.K, zBegin + p.kLen), row);
  let baseA = matrix * p.strideA;
  let baseB = matrix * p.strideB;
  var acc = mat4x4<f32>(); // acc[i]: row + i, columns col..col+3
  for (var k = ks.x; k < ks.y; k += 4u) {
    let x = load_a(baseA, row, k);
    let y = load_b(baseB, k, col);
    for (var i = 0u; i < 4u; i++) {
      acc[i] += x[i].x * y[0];
      acc[i] += x[i].y * y[1];
      acc[i] += x[i].z * y[2];
      acc[i] += x[i].w * y[3];
    }
  }
  for (var i = 0u; i < 4u; i++) { store4(baseC, row + i, col, acc[i]); }
}
