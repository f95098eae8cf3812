import { layernormBackward, layernormForward, layernormParamGrad } from '../../src/gpu/kernels/layernorm';
import { rmsnormBackward, rmsnormForward, rmsnormParamGrad } from '../../src/gpu/kernels/rmsnorm';
import { HIDDEN as C, type MemCase, ROWS as N } from './case';

const shape = `(${N}x${C})`;
export const normCases: MemCase[] = [
  {
    name: `layernormForward ${shape}`,
    bytes: 8 * N * C + 8 * N,
    build: (ctx, t) => [
      layernormForward(
        ctx,
        t.f32([N, C], 'inp'),
        t.f32([C], 'w'),
        t.f32([C], 'b'),
        t.f32([N, C], 'out'),
        t.f32([N], 'mean'),
        t.f32([N], 'rstd'),
        N,
        C,
        1e-5,
      ),
    ],
  },
  {
    name: `layernormBackward ${shape}`,
    bytes: 16 * N * C + 8 * N,
    build: (ctx, t) => [
      layernormBackward(
        ctx,
        t.f32([N, C], 'dout'),
        t.f32([N, C], 'inp'),
        t.f32([C], 'w'),
        t.f32([N], 'mean'),
        t.f32([N], 'rstd'),
        t.f32([N, C], 'dinp'),
        N,
        C,
      ),
    ],
  },
  {
    name: `layernormParamGrad ${shape}`,
    bytes: 8 * N * C + 8 * N,
    build: (ctx, t) => [
      layernormParamGrad(
        ctx,
        t.f32([N, C], 'dout'),
        t.f32([N, C], 'inp'),
        t.f32([N], 'mean'),
        t.f32([N], 'rstd'),
        t.f32([C], 'dw'),
        t.f32([C], 'db'),
        N,
        C,
      ),
    ],
  },
  {
    name: `rmsnormForward ${shape}`,
    bytes: 8 * N * C + 4 * N,
    build: (ctx, t) => [
      rmsnormForward(ctx, t.f32([N, C], 'inp'), t.f32([C], 'w'), t.f32([N, C], 'out'), t.f32([N], 'rstd'), N, C, 1e-5),
    ],
  },
  {
    name: `rmsnormBackward ${shape}`,
    bytes: 16 * N * C + 4 * N,
    build: (ctx, t) => [
      rmsnormBackward(
        ctx,
        t.f32([N, C], 'dout'),
        t.f32([N, C], 'inp'),
        t.f32([C], 'w'),
        t.f32([N], 'rstd'),
        t.f32([N, C], 'dinp'),
        N,
        C,
      ),
    ],
  },
  {
    name: `rmsnormParamGrad ${shape}`,
    bytes: 8 * N * C + 4 * N,
    build: (ctx, t) => [
      rmsnormParamGrad(ctx, t.f32([N, C], 'dout'), t.f32([N, C], 'inp'), t.f32([N], 'rstd'), t.f32([C], 'dw'), N, C),
    ],
  },
];
