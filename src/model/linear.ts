// y = x·Wᵀ + b and its backward, as dispatches. W is stored (out, in) like torch.nn.Linear.
// Where the operands allow (matmulFusable; fuseBiasEpilogue for the forward), the bias, the GELU
// after it and the GELU's backward ride in the matmul's epilogue instead of dispatches of their own.
import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import { fuseBiasEpilogue, matmul, matmulFusable } from '../gpu/kernels/matmul';
import { biasAdd, biasGrad } from '../gpu/kernels/elementwise';
import { geluBackward, geluForward } from '../gpu/kernels/gelu';

// x: (N, in)  W: (out, in)  b: (out) | null  y: (N, out)  gelu: (N, out) gelu(y), when given
export function linearForward(
  ctx: GpuContext,
  x: GpuTensor,
  W: GpuTensor,
  b: GpuTensor | null,
  y: GpuTensor,
  N: number,
  inF: number,
  outF: number,
  gelu?: GpuTensor,
): Dispatch[] {
  const spec = { M: N, N: outF, K: inF, transB: true };
  if (b && fuseBiasEpilogue(ctx, spec, x, W, y)) {
    return matmul(ctx, x, W, y, spec, gelu ? { kind: 'biasGelu', bias: b, gelu } : { kind: 'bias', bias: b });
  }
  const d = matmul(ctx, x, W, y, spec);
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
  W: GpuTensor,
  dW: GpuTensor,
  db: GpuTensor | null,
  dx: GpuTensor | null,
  N: number,
  inF: number,
  outF: number,
  throughGelu?: { preGelu: GpuTensor; scratch: GpuTensor | null },
): Dispatch[] {
  // dx first: a tensor-parallel sum of dx can then be under way while dW and db are computed
  const d: Dispatch[] = [];
  const spec = { M: N, N: inF, K: outF };
  if (!dx) {
    // no input gradient
  } else if (!throughGelu) d.push(...matmul(ctx, dy, W, dx, spec));
  else if (matmulFusable(spec, dy, W, dx))
    d.push(...matmul(ctx, dy, W, dx, spec, { kind: 'geluBackward', preGelu: throughGelu.preGelu }));
  else {
    const { preGelu, scratch } = throughGelu;
    if (!scratch) throw new Error('linearBackward: an unfused GELU backward needs a scratch tensor');
    d.push(...matmul(ctx, dy, W, scratch, spec), geluBackward(ctx, preGelu, scratch, dx));
  }
  d.push(...matmul(ctx, dy, x, dW, { M: outF, N: inF, K: N, transA: true, beta: 1 }));
  if (db) d.push(biasGrad(ctx, dy, db, N, outF));
  return d;
}
