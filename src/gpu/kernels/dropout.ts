// Dropout without a stored mask: forward and backward regenerate the same keep/drop
// decision from (seed, stream, index) with a counter-based hash (see shaders/dropout.wgsl).
import src from '../../../shaders/dropout.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectLength, expectNoAlias } from './validate';
import { linearWorkgroup } from './workgroup';

function dropout(ctx: GpuContext, kernel: string, x: GpuTensor, p: number, seed: GpuTensor, stream: number): Dispatch {
  if (!(p >= 0 && p < 1)) throw new Error(`${kernel}: p must lie in [0, 1), got ${p}`);
  if (!Number.isInteger(stream) || stream < 0 || stream >= 2 ** 32)
    throw new Error(`${kernel}: stream must be a u32, got ${stream}`);
  expectLength(kernel, 'seed', seed, 1);
  expectNoAlias(kernel, { x }, { seed });
  const WG = linearWorkgroup(ctx);
  const u = uniforms([
    ['u32', x.length],
    ['u32', stream],
    ['f32', p],
    ['f32', 1 / (1 - p)],
  ]);
  return ctx.bind(kernel, ctx.pipeline('dropout', src, { WG }), [x, seed, u], grid1d(Math.ceil(x.length / WG)));
}

/** x: (N) in place; keeps element i iff hash(seed, stream, i) >= p, scaling kept values by 1/(1-p) */
export function dropoutForward(ctx: GpuContext, x: GpuTensor, p: number, seed: GpuTensor, stream: number): Dispatch {
  return dropout(ctx, 'dropoutForward', x, p, seed, stream);
}

/** dx: (N) in place, with the forward's mask (same seed, stream) */
export function dropoutBackward(ctx: GpuContext, dx: GpuTensor, p: number, seed: GpuTensor, stream: number): Dispatch {
  return dropout(ctx, 'dropoutBackward', dx, p, seed, stream);
}
