import { dropoutBackward, dropoutForward } from '../kernels/dropout';
import { dropoutRef } from '../../reference/dropout';
import { randn } from '../../util/rng';
import { noGpuErrors } from './gpu-errors';
import { compare, type CheckResult, type KernelCheck } from './harness';
import { throwsMatching } from './throws';

const zeroFraction = (a: ArrayLike<number>) => Array.prototype.filter.call(a, (v: number) => v === 0).length / a.length;

/** |observed - expected| in units of the binomial standard deviation, as a CheckResult (tol 5σ) */
function fraction(name: string, observed: number, expected: number, n: number): CheckResult {
  const sigma = Math.sqrt((expected * (1 - expected)) / n);
  return {
    name,
    relErr: Math.abs(observed - expected) / sigma,
    tol: 5,
    detail: `observed ${observed}, expected ${expected} (σ ${sigma.toExponential(2)})`,
  };
}

export const dropoutCheck: KernelCheck = {
  name: 'dropout',
  async run(ctx) {
    const n = 100_003,
      p = 0.1,
      seedValue = 0xdeadbeef,
      stream = 7;
    const x = randn(n, 700).map((v) => v + 3); // no exact zeros before dropout
    const dy = randn(n, 701).map((v) => v - 3);
    const seed = ctx.tensorFrom(Uint32Array.from([seedValue]));
    const tx = ctx.tensorFrom(x),
      tdy = ctx.tensorFrom(dy),
      other = ctx.tensorFrom(x),
      otherSeed = ctx.tensorFrom(x);
    const seed2 = ctx.tensorFrom(Uint32Array.from([seedValue + 1]));
    const errors = await noGpuErrors(ctx, 'dropout.gpuErrors', () =>
      ctx.run([
        dropoutForward(ctx, tx, p, seed, stream),
        dropoutBackward(ctx, tdy, p, seed, stream),
        dropoutForward(ctx, other, p, seed, stream + 1),
        dropoutForward(ctx, otherSeed, p, seed2, stream),
      ]),
    );
    const fwd = await ctx.read(tx),
      bwd = await ctx.read(tdy),
      a = await ctx.read(other),
      b = await ctx.read(otherSeed);
    let sameMask = 0,
      bothDroppedStream = 0,
      bothDroppedSeed = 0;
    for (let i = 0; i < n; i++) {
      if ((fwd[i] === 0) === (bwd[i] === 0)) sameMask++;
      if (fwd[i] === 0 && a[i] === 0) bothDroppedStream++;
      if (fwd[i] === 0 && b[i] === 0) bothDroppedSeed++;
    }
    return [
      errors,
      compare('dropout.fwd', fwd, dropoutRef(x, p, seedValue, stream), 1e-6),
      compare('dropout.bwd', bwd, dropoutRef(dy, p, seedValue, stream), 1e-6),
      { name: 'dropout.bwdSameMask', relErr: n - sameMask, tol: 0 },
      fraction('dropout.dropRate', zeroFraction(fwd), p, n),
      fraction('dropout.streamsIndependent', bothDroppedStream / n, p * p, n),
      fraction('dropout.seedsIndependent', bothDroppedSeed / n, p * p, n),
      throwsMatching(
        'dropout.badP',
        () => dropoutForward(ctx, tx, 1, seed, 0),
        /dropoutForward: p must lie in \[0, 1\)/,
      ),
      throwsMatching(
        'dropout.badSeed',
        () => dropoutForward(ctx, tx, 0.1, tx, 0),
        /dropoutForward: seed .* expected 1/,
      ),
    ];
  },
};
