// y = x·Wᵀ + b and its backward, as dispatches. W is stored (out, in) like torch.nn.Linear.
// Where the operands allow (matmulFusable; fuseBiasEpilogue for the forward), the bias, the GELU
// after it and the GELU's backward ride in the matmul's epilogue instead of dispatches of their own.
// With f16 arithmetic (an fp16 run on a device with shader-f16: matmul-f16.ts arithmeticFor) every
// product runs matmul_f16.wgsl instead, the bias, GELU and GELU backward (in place) as dispatches
// of their own.
import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import { fuseBiasEpilogue, type MatmulSpec, matmul, matmulFusable } from '../gpu/kernels/matmul';
import { type Arithmetic, f32Weight, type LinearWeight, matmulF16 } from '../gpu/kernels/matmul-f16';
import { biasAdd, biasGrad } from '../gpu/kernels/elementwise';
import { geluBackward, geluBackwardInPlace, geluForward } from '../gpu/kernels/gelu';

/** C = op(A)·op(B) of a linear layer (no epilogue): matmul_f16.wgsl with f16 arithmetic, else matmul(). */
export function linearProduct(
  ctx: GpuContext,
  arithmetic: Arithmetic,
  a: GpuTensor,
  b: LinearWeight,
  c: GpuTensor,
  spec: MatmulSpec,
): Dispatch[] {
  return arithmetic === 'f16' ? [matmulF16(ctx, a, b, c, spec)] : matmul(ctx, a, f32Weight(b), c, spec);
}

// x: (N, in)  W: (out, in), f32 or (f16 arithmetic) packed fp16  b: (out) | null  y: (N, out)
// gelu: (N, out) gelu(y), when given
export function linearForward(
  ctx: GpuContext,
  x: GpuTensor,
  W: LinearWeight,
  b: GpuTensor | null,
  y: GpuTensor,
  N: number,
  inF: number,
  outF: number,
  gelu?: GpuTensor,
  arithmetic: Arithmetic = 'f32',
): Dispatch[] {
  const spec = { M: N, N: outF, K: inF, transB: true };
  if (b && arithmetic === 'f32' && fuseBiasEpilogue(ctx, spec, x, f32Weight(W), y)) {
    const epilogue = gelu ? { kind: 'biasGelu' as const, bias: b, gelu } : { kind: 'bias' as const, bias: b };
    return matmul(ctx, x, f32Weight(W), y, spec, epilogue);
  }
  const d = linearProduct(ctx, arithmetic, x, W, y, spec);
  if (b) d.push(biasAdd(ctx, y, b, N, outF));
  if (gelu) d.push(geluForward(ctx, y, gelu));
  return d;
}

// dy: (N, out)  x: (N, in)  dW: += (out, in)  db: += (out)  dx: (N, in) overwritten, or skipped when null.
// throughGelu: x = gelu(preGelu), and dx is the gradient of preGelu instead (scratch: (N, in), used
// only when the GELU backward cannot be fused)
export function linearBackward(
  ctx: GpuContext,
  dy: GpuTensor,
  x: GpuTensor,
  W: LinearWeight,
  dW: GpuTensor,
  db: GpuTensor | null,
  dx: GpuTensor | null,
  N: number,
  inF: number,
  outF: number,
  throughGelu?: { preGelu: GpuTensor; scratch: GpuTensor | null },
  arithmetic: Arithmetic = 'f32',
): Dispatch[] {
  // dx first: a tensor-parallel sum of dx can then be under way while dW and db are computed
  const d: Dispatch[] = [];
  const spec = { M: N, N: inF, K: outF };
  if (!dx) {
    // no input gradient
  } else if (!throughGelu) d.push(...linearProduct(ctx, arithmetic, dy, W, dx, spec));
  else if (arithmetic === 'f16')
    d.push(matmulF16(ctx, dy, W, dx, spec), geluBackwardInPlace(ctx, throughGelu.preGelu, dx));
  else if (matmulFusable(spec, dy, f32Weight(W), dx))
    d.push(...matmul(ctx, dy, f32Weight(W), dx, spec, { kind: 'geluBackward', preGelu: throughGelu.preGelu }));
  else {
    const { preGelu, scratch } = throughGelu;
    if (!scratch) throw new Error('linearBackward: an unfused GELU backward needs a scratch tensor');
    d.push(...matmul(ctx, dy, f32Weight(W), scratch, spec), geluBackward(ctx, preGelu, scratch, dx));
  }
  d.push(...linearProduct(ctx, arithmetic, dy, x, dW, { M: outF, N: inF, K: N, transA: true, beta: 1 }));
  if (db) d.push(biasGrad(ctx, dy, db, N, outF));
  return d;
}
