// y = x·Wᵀ + b and its backward, as dispatches. W is stored (out, in) like torch.nn.Linear.
import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import { matmul } from '../gpu/kernels/matmul';
import { biasAdd, biasGrad } from '../gpu/kernels/elementwise';

// x: (N, in)  W: (out, in)  b: (out) | null  y: (N, out)
export function linearForward(
  ctx: GpuContext,
  x: GpuTensor,
  W: GpuTensor,
  b: GpuTensor | null,
  y: GpuTensor,
  N: number,
  inF: number,
  outF: number,
): Dispatch[] {
  const d = matmul(ctx, x, W, y, { M: N, N: outF, K: inF, transB: true });
  if (b) d.push(biasAdd(ctx, y, b, N, outF));
  return d;
}

// dy: (N, out)  x: (N, in)  dW: += (out, in)  db: += (out)  dx: (N, in) overwritten, or skipped when null
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
): Dispatch[] {
  const d = matmul(ctx, dy, x, dW, { M: outF, N: inF, K: N, transA: true, beta: 1 });
  if (db) d.push(biasGrad(ctx, dy, db, N, outF));
  if (dx) d.push(...matmul(ctx, dy, W, dx, { M: N, N: inF, K: outF }));
  return d;
}
