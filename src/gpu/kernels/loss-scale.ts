// Loss-scaling kernels (mixed precision): multiply a tensor by a factor held in a GPU tensor
// (the loss scale, rewritten each step), and unscale gradients while flagging Inf/NaN.
import scaleByTensorSrc from '../../../shaders/scale_by_tensor.wgsl?raw';
import unscaleCheckSrc from '../../../shaders/unscale_check.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectNoAlias } from './validate';
import { linearWorkgroup } from './workgroup';

function checkIndex(k: string, factors: GpuTensor, which: number): void {
  if (!Number.isInteger(which) || which < 0 || which >= factors.length)
    throw new Error(`${k}: factor index ${which} is outside factors (${factors.length})`);
}

/** x *= factors[which]. x: (N); factors: (F) */
export function scaleByTensor(ctx: GpuContext, x: GpuTensor, factors: GpuTensor, which: number): Dispatch {
  const k = 'scaleByTensor';
  checkIndex(k, factors, which);
  expectNoAlias(k, { x }, { factors });
  const WG = linearWorkgroup(ctx);
  return ctx.bind(
    k,
    ctx.pipeline('scale_by_tensor', scaleByTensorSrc, { WG }),
    [
      x,
      factors,
      uniforms([
        ['u32', x.length],
        ['u32', which],
      ]),
    ],
    grid1d(Math.ceil(x.length / WG)),
  );
}

/** grads *= factors[which]; flag[0] |= 1 where a result is Inf or NaN. grads: (P); factors: (F); flag: u32 (1) */
export function unscaleAndCheck(
  ctx: GpuContext,
  grads: GpuTensor,
  factors: GpuTensor,
  which: number,
  flag: GpuTensor,
): Dispatch {
  const k = 'unscaleAndCheck';
  checkIndex(k, factors, which);
  if (flag.length !== 1) throw new Error(`${k}: flag must hold 1 value, got ${flag.length}`);
  expectNoAlias(k, { grads, flag }, { factors });
  expectNoAlias(k, { flag }, { grads });
  const WG = linearWorkgroup(ctx);
  return ctx.bind(
    k,
    ctx.pipeline('unscale_check', unscaleCheckSrc, { WG }),
    [
      grads,
      factors,
      flag,
      uniforms([
        ['u32', grads.length],
        ['u32', which],
      ]),
    ],
    grid1d(Math.ceil(grads.length / WG)),
  );
}
