// Batched GEMM with f16 arithmetic (needs the device feature shader-f16):
// C[z] = alpha · op(A[z]) · op(B[z]) + beta · C[z], z = workgroup_id.z
// a: op(A) is (M, K); stored f32 (M, K), or (K, M) when TRANS_A     batch stride p.strideA
// b: op(B) is (K, N); stored (K, N), or (N, K) when TRANS_B          batch stride p.strideB
//    f32, or with PACKED_B fp16 values two to a u32 (element 2i low in word i), the matrix
//    starting at element p.atB (fp16 weights' working copy, model/half-weights.ts)
// c: f32 (M, N)                                                     batch stride p.strideC
// Where f16 arithmetic happens: operands are rounded to f16 as they enter workgroup memory
// (exact for weights cast from an fp16 working copy), each product term is a
// dot(vec4<f16>, vec4<f16>) over four consecutive k (four f16 products summed in f16, the
// result an f16), and those partial dots are added into f32 accumulators; alpha, beta and the
// store are f32. So an output carries at most the f16 rounding of its inputs and of one
// four-term dot per four k (about 8·2^-11 of Σ|a·b|: f16MatmulErrorBound in
// src/gpu/kernels/matmul-f16.ts), never an f16 sum over all of K.
// A workgroup owns a 64×64 tile of C and walks K in steps of BK = 16; each invocation owns
// 4×4 outputs: rows ty·4 + i, cols tx·4 + j.
enable f16;

@group(0) @binding(0) var<storage, read> a: array<f32>;
// f32 bits, or packed fp16 pairs (PACKED_B)
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
struct Params { M: u32, N: u32, K: u32, strideA: u32, strideB: u32, strideC: u32, alpha: f32, beta: f32, atB: u32 }
@group(0) @binding(3) var<uniform> p: Params;

override TRANS_A: bool = false;
override TRANS_B: bool = false;
override PACKED_B: bool = false;

const TILE: u32 = 64u;
const BK: u32 = 16u;
const KQ: u32 = BK / 4u;
// [kq * TILE + row]: k = 4·kq .. 4·kq + 3 of one row of op(A) (one column of op(B))
var<workgroup> as_: array<vec4<f16>, KQ * TILE>;
var<workgroup> bs_: array<vec4<f16>, KQ * TILE>;

// op(A)[m, k] of batch z as f32 (0 outside the matrix)
fn load_a(z: u32, m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  return a[z * p.strideA + select(m * p.K + k, k * p.M + m, TRANS_A)];
}

// op(B)[k, n] of batch z as f32 (0 outside the matrix)
fn load_b(z: u32, k: u32, n: u32) -> f32 {
  if (n >= p.N || k >= p.K) { return 0.0; }
  let e = z * p.strideB + select(k * p.N + n, n * p.K + k, TRANS_B);
  if (PACKED_B) {
    let at = p.atB + e;
    return unpack2x16float(b[at / 2u])[at & 1u]; // exact
  }
  return bitcast<f32>(b[e]);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let z = wid.z;
  let m0 = wid.y * TILE;
  let n0 = wid.x * TILE;
  let t = lid.y * 16u + lid.x;
  // this invocation fills slot t of each tile: row t % TILE, k quad t / TILE
  let row = t % TILE;
  let kq = t / TILE;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    let k = k0 + 4u * kq;
    let m = m0 + row;
    let n = n0 + row;
    as_[t] = vec4<f16>(vec4<f32>(load_a(z, m, k), load_a(z, m, k + 1u), load_a(z, m, k + 2u), load_a(z, m, k + 3u)));
    bs_[t] = vec4<f16>(vec4<f32>(load_b(z, k, n), load_b(z, k + 1u, n), load_b(z, k + 2u, n), load_b(z, k + 3u, n)));
    workgroupBarrier();
    for (var q = 0u; q < KQ; q++) {
      let a0 = as_[q * TILE + lid.y * 4u];
      let a1 = as_[q * TILE + lid.y * 4u + 1u];
      let a2 = as_[q * TILE + lid.y * 4u + 2u];
      let a3 = as_[q * TILE + lid.y * 4u + 3u];
      let b0 = bs_[q * TILE + lid.x * 4u];
      let b1 = bs_[q * TILE + lid.x * 4u + 1u];
      let b2 = bs_[q * TILE + lid.x * 4u + 2u];
      let b3 = bs_[q * TILE + lid.x * 4u + 3u];
      acc[0] += vec4<f32>(vec4<f16>(dot(a0, b0), dot(a0, b1), dot(a0, b2), dot(a0, b3)));
      acc[1] += vec4<f32>(vec4<f16>(dot(a1, b0), dot(a1, b1), dot(a1, b2), dot(a1, b3)));
      acc[2] += vec4<f32>(vec4<f16>(dot(a2, b0), dot(a2, b1), dot(a2, b2), dot(a2, b3)));
      acc[3] += vec4<f32>(vec4<f16>(dot(a3, b0), dot(a3, b1), dot(a3, b2), dot(a3, b3)));
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let m = m0 + lid.y * 4u + i;
    if (m >= p.M) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let n = n0 + lid.x * 4u + j;
      if (n >= p.N) { continue; }
      let at = z * p.strideC + m * p.N + n;
      var v = p.alpha * acc[i][j];
      if (p.beta != 0.0) { v += p.beta * c[at]; }
      c[at] = v;
    }
  }
}
