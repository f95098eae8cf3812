import { add, addInto, biasAdd, biasGrad, copy, scale } from '../kernels/elementwise';
import { addRef, biasAddRef, columnSumRef, scaleRef } from '../../reference/elementwise';
import { randn } from '../../util/rng';
import { noGpuErrors } from './gpu-errors';
import { compare, type KernelCheck } from './harness';
import { guardsIntact, packed } from './packed';
import { throwsMatching } from './throws';

export const elementwiseCheck: KernelCheck = {
  name: 'elementwise',
  async run(ctx) {
    const n = 5 * 256 + 77; // not a multiple of the workgroup size
    const a = randn(n, 11),
      b = randn(n, 12);
    const ta = ctx.tensorFrom(a),
      tb = ctx.tensorFrom(b),
      out = ctx.tensor([n]),
      dst = ctx.tensor([n]);
    const acc = ctx.tensorFrom(a),
      sc = ctx.tensorFrom(a);
    const errors = [
      await noGpuErrors(ctx, 'elementwise.gpuErrors', () =>
        ctx.run([add(ctx, ta, tb, out), copy(ctx, tb, dst), addInto(ctx, acc, tb), scale(ctx, sc, -0.37)]),
      ),
    ];

    // bias add/grad on (rows, cols) with rows, cols not multiples of any tile; dbias lives
    // at an offset inside a shared buffer and accumulates onto its previous value
    const rows = 301,
      cols = 45;
    const y0 = randn(rows * cols, 13),
      bias = randn(cols, 14),
      dy = randn(rows * cols, 15),
      db0 = randn(cols, 16);
    const ty = ctx.tensorFrom(y0),
      tbias = ctx.tensorFrom(bias),
      tdy = ctx.tensorFrom(dy);
    const grads = packed(ctx, { other: [3], dbias: [cols] }, 'grads');
    ctx.write(grads.views.dbias, db0);
    errors.push(
      await noGpuErrors(ctx, 'elementwise.bias.gpuErrors', () =>
        ctx.run([biasAdd(ctx, ty, tbias, rows, cols), biasGrad(ctx, tdy, grads.views.dbias, rows, cols)]),
      ),
    );
    const colSum = columnSumRef(dy, rows, cols);
    const dbWant = colSum.map((s, c) => s + db0[c]);

    return [
      ...errors,
      compare('elementwise.add', await ctx.read(out), addRef(a, b), 1e-7),
      compare('elementwise.copy', await ctx.read(dst), b, 0),
      compare('elementwise.addInto', await ctx.read(acc), addRef(a, b), 1e-7),
      compare('elementwise.scale', await ctx.read(sc), scaleRef(a, -0.37), 1e-7),
      compare('elementwise.biasAdd', await ctx.read(ty), biasAddRef(y0, bias, rows, cols), 1e-7),
      compare('elementwise.biasGrad', await ctx.read(grads.views.dbias), dbWant, 1e-6),
      await guardsIntact(ctx, grads, 'elementwise.biasGrad.guards'),
      throwsMatching('elementwise.badShape', () => biasAdd(ctx, ty, tbias, rows + 1, cols), /biasAdd: y .* expected/),
      throwsMatching('elementwise.alias', () => add(ctx, ta, tb, ta), /add: output out shares/),
    ];
  },
};
