// Dropout without a stored mask: forward and backward regenerate the same keep/drop
// decision from (step seed, call site, global sample, global group, offset) with a
// counter-based hash (see shaders/dropout.wgsl), so every layout draws the same mask.
import src from '../../../shaders/dropout.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectLength, expectNoAlias, expectPositiveInts } from './validate';
import { linearWorkgroup } from './workgroup';

/** How x is laid out over the batch: (samples, groups, groupSize), this rank holding `groups`
 *  of each sample's groups from global group `groupBase` (e.g. its attention heads), and of each
 *  group the `groupSize` elements from `offset` on (e.g. its sequence-parallel positions). */
export interface DropoutLayout {
  groupSize: number;
  groups: number;
  groupBase: number;
  /** where the held part of each group starts in the whole group (default 0) */
  offset?: number;
}

/** Words in a dropout seed tensor: [step seed, global id of the first sample, 0, 0]. */
export const DROPOUT_SEED_WORDS = 4;

function dropout(
  ctx: GpuContext,
  kernel: string,
  x: GpuTensor,
  p: number,
  seed: GpuTensor,
  stream: number,
  layout: DropoutLayout,
): Dispatch {
  if (!(p >= 0 && p < 1)) throw new Error(`${kernel}: p must lie in [0, 1), got ${p}`);
  if (!Number.isInteger(stream) || stream < 0 || stream >= 2 ** 32)
    throw new Error(`${kernel}: stream must be a u32, got ${stream}`);
  expectLength(kernel, 'seed', seed, DROPOUT_SEED_WORDS);
  expectPositiveInts(kernel, { groupSize: layout.groupSize, groups: layout.groups });
  const offset = layout.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset + layout.groupSize >= 2 ** 32)
    throw new Error(`${kernel}: offset must be a u32 with offset + groupSize < 2^32, got ${offset}`);
  if (x.length % (layout.groupSize * layout.groups) !== 0)
    throw new Error(
      `${kernel}: x has ${x.length} elements, not a whole number of samples of ${layout.groups} × ${layout.groupSize}`,
    );
  expectNoAlias(kernel, { x }, { seed });
  const WG = linearWorkgroup(ctx);
  const u = uniforms([
    ['u32', x.length],
    ['u32', stream],
    ['f32', p],
    ['f32', 1 / (1 - p)],
    ['u32', layout.groupSize],
    ['u32', layout.groups],
    ['u32', layout.groupBase],
    ['u32', layout.offset ?? 0],
  ]);
  return ctx.bind(kernel, ctx.pipeline('dropout', src, { WG }), [x, seed, u], grid1d(Math.ceil(x.length / WG)));
}

/** x: (N) in place; keeps an element iff its hash is >= p, scaling kept values by 1/(1-p) */
export function dropoutForward(
  ctx: GpuContext,
  x: GpuTensor,
  p: number,
  seed: GpuTensor,
  stream: number,
  layout: DropoutLayout,
): Dispatch {
  return dropout(ctx, 'dropoutForward', x, p, seed, stream, layout);
}

/** dx: (N) in place, with the forward's mask (same seed, stream, layout) */
export function dropoutBackward(
  ctx: GpuContext,
  dx: GpuTensor,
  p: number,
  seed: GpuTensor,
  stream: number,
  layout: DropoutLayout,
): Dispatch {
  return dropout(ctx, 'dropoutBackward', dx, p, seed, stream, layout);
}
