// CPU reference for the batched GEMM of src/gpu/kernels/matmul.ts, in f64.
import type { MatmulSpec } from '../gpu/kernels/matmul';
import { geluBackwardRef, geluRef } from './gelu';

/** Returns the whole C buffer after C[i] = alpha·op(A[i])·op(B[i]) + beta·C[i], i < batch.
 * a, b, c are the flat arrays the strides index into; elements of c outside the batch's
 * matrices are copied through unchanged. beta = 0 ignores C (NaN there does not leak). */
export function matmulRef(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  c: ArrayLike<number>,
  spec: MatmulSpec,
): Float64Array {
  const { M, N, K } = spec;
  const batch = spec.batch ?? 1,
    alpha = spec.alpha ?? 1,
    beta = spec.beta ?? 0;
  const sA = spec.strideA ?? M * K,
    sB = spec.strideB ?? K * N,
    sC = spec.strideC ?? M * N;
  // op(A)[m,k] and op(B)[k,n] as flat indices
  const ia = spec.transA ? (m: number, k: number) => k * M + m : (m: number, k: number) => m * K + k;
  const ib = spec.transB ? (k: number, n: number) => n * K + k : (k: number, n: number) => k * N + n;
  const out = Float64Array.from(c);
  for (let z = 0; z < batch; z++) {
    for (let m = 0; m < M; m++) {
      for (let n = 0; n < N; n++) {
        let dot = 0;
        for (let k = 0; k < K; k++) dot += a[z * sA + ia(m, k)] * b[z * sB + ib(k, n)];
        const at = z * sC + m * N + n;
        out[at] = alpha * dot + (beta === 0 ? 0 : beta * c[at]);
      }
    }
  }
  return out;
}

/** A fused matmul epilogue (src/gpu/kernels/matmul-epilogue.ts) on C (M, N) after the product, in f64:
 * bias adds bias[col]; gelu also returns gelu(C); preGelu multiplies C by gelu'(preGelu). */
export function matmulEpilogueRef(
  c: ArrayLike<number>,
  N: number,
  e: { bias?: ArrayLike<number>; gelu?: boolean; preGelu?: ArrayLike<number> },
): { c: Float64Array; gelu?: Float64Array } {
  const out = Float64Array.from(c);
  if (e.bias) for (let i = 0; i < out.length; i++) out[i] += e.bias[i % N];
  if (e.preGelu) {
    const ones = new Float64Array(out.length).fill(1);
    const grad = geluBackwardRef(e.preGelu, ones);
    for (let i = 0; i < out.length; i++) out[i] *= grad[i];
  }
  return { c: out, gelu: e.gelu ? geluRef(out) : undefined };
}
