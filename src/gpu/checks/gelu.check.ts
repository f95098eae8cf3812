import { geluBackward, geluBackwardInPlace, geluForward } from '../kernels/gelu';
import { geluBackwardRef, geluRef } from '../../reference/gelu';
import { randn } from '../../util/rng';
import { compare, type KernelCheck } from './harness';

export const geluCheck: KernelCheck = {
  name: 'gelu',
  async run(ctx) {
    const n = 1000 * 7 + 3; // not a multiple of the workgroup size
    const x = randn(n, 1, 3);
    const dy = randn(n, 2);
    const inp = ctx.tensorFrom(x),
      out = ctx.tensor([n]),
      dout = ctx.tensorFrom(dy),
      dinp = ctx.tensor([n]),
      inPlace = ctx.tensorFrom(dy);
    ctx.run([geluForward(ctx, inp, out), geluBackward(ctx, inp, dout, dinp), geluBackwardInPlace(ctx, inp, inPlace)]);
    return [
      compare('gelu_fwd', await ctx.read(out), geluRef(x), 1e-6),
      compare('gelu_bwd', await ctx.read(dinp), geluBackwardRef(x, dy), 1e-6),
      compare('gelu_bwd_inplace', await ctx.read(inPlace), geluBackwardRef(x, dy), 1e-6),
    ];
  },
};
