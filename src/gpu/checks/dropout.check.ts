import { type DropoutLayout, dropoutBackward, dropoutForward } from '../kernels/dropout';
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

/** Elements whose zero/non-zero state differs between a and b. */
function maskDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) if ((a[i] === 0) !== (b[i] === 0)) d++;
  return d;
}

export const dropoutCheck: KernelCheck = {
  name: 'dropout',
  async run(ctx) {
    // x: (samples 7, groups 4, groupSize 3571): like attention probabilities over 4 heads
    const samples = 7,
      groups = 4,
      groupSize = 3571,
      n = samples * groups * groupSize;
    const p = 0.1,
      stepSeed = 0xdeadbeef,
      firstSample = 1000,
      stream = 7;
    const layout: DropoutLayout = { groupSize, groups, groupBase: 0 };
    const place = { firstSample, ...layout };
    const x = randn(n, 700).map((v) => v + 3); // no exact zeros before dropout
    const dy = randn(n, 701).map((v) => v - 3);
    const seed = ctx.tensorFrom(Uint32Array.from([stepSeed, firstSample, 0, 0]));
    const seed2 = ctx.tensorFrom(Uint32Array.from([stepSeed + 1, firstSample, 0, 0]));
    const tx = ctx.tensorFrom(x),
      tdy = ctx.tensorFrom(dy),
      other = ctx.tensorFrom(x),
      otherSeed = ctx.tensorFrom(x);
    // the same tensor computed in parts: heads 2..3 on another "TP rank", samples 3.. in another micro-batch
    const heads = Array.from({ length: samples }, (_, s) =>
      x.slice((s * groups + 2) * groupSize, (s + 1) * groups * groupSize),
    );
    const tpPart = ctx.tensorFrom(Float32Array.from(heads.flatMap((h) => Array.from(h))));
    const laterSamples = ctx.tensorFrom(x.slice(3 * groups * groupSize));
    // elements [cut, groupSize) of every group on another "sequence-parallel rank"
    const cut = 1000;
    const tail = (v: ArrayLike<number>) =>
      Float32Array.from(
        Array.from({ length: samples * groups }, (_, g) =>
          Array.from(Array.prototype.slice.call(v, g * groupSize + cut, (g + 1) * groupSize) as number[]),
        ).flat(),
      );
    const seqPart = ctx.tensorFrom(tail(x));
    const seedLater = ctx.tensorFrom(Uint32Array.from([stepSeed, firstSample + 3, 0, 0]));
    const errors = await noGpuErrors(ctx, 'dropout.gpuErrors', () =>
      ctx.run([
        dropoutForward(ctx, tx, p, seed, stream, layout),
        dropoutBackward(ctx, tdy, p, seed, stream, layout),
        dropoutForward(ctx, other, p, seed, stream + 1, layout),
        dropoutForward(ctx, otherSeed, p, seed2, stream, layout),
        dropoutForward(ctx, tpPart, p, seed, stream, { groupSize, groups: 2, groupBase: 2 }),
        dropoutForward(ctx, laterSamples, p, seedLater, stream, layout),
        dropoutForward(ctx, seqPart, p, seed, stream, {
          groupSize: groupSize - cut,
          groups,
          groupBase: 0,
          offset: cut,
        }),
      ]),
    );
    const fwd = await ctx.read(tx),
      bwd = await ctx.read(tdy),
      a = await ctx.read(other),
      b = await ctx.read(otherSeed),
      tp = await ctx.read(tpPart),
      later = await ctx.read(laterSamples),
      seq = await ctx.read(seqPart);
    let bothDroppedStream = 0,
      bothDroppedSeed = 0;
    for (let i = 0; i < n; i++) {
      if (fwd[i] === 0 && a[i] === 0) bothDroppedStream++;
      if (fwd[i] === 0 && b[i] === 0) bothDroppedSeed++;
    }
    const fwdHeads = Float32Array.from(
      Array.from({ length: samples }, (_, s) =>
        Array.from(fwd.slice((s * groups + 2) * groupSize, (s + 1) * groups * groupSize)),
      ).flat(),
    );
    return [
      errors,
      compare('dropout.fwd', fwd, dropoutRef(x, p, stepSeed, stream, place), 1e-6),
      compare('dropout.bwd', bwd, dropoutRef(dy, p, stepSeed, stream, place), 1e-6),
      { name: 'dropout.bwdSameMask', relErr: maskDiff(fwd, bwd), tol: 0 },
      { name: 'dropout.sameMaskOnOtherTpRank', relErr: maskDiff(tp, fwdHeads), tol: 0 },
      { name: 'dropout.sameMaskOnOtherSequenceRank', relErr: maskDiff(seq, tail(fwd)), tol: 0 },
      { name: 'dropout.sameMaskInOtherMicroBatch', relErr: maskDiff(later, fwd.slice(3 * groups * groupSize)), tol: 0 },
      fraction('dropout.dropRate', zeroFraction(fwd), p, n),
      fraction('dropout.streamsIndependent', bothDroppedStream / n, p * p, n),
      fraction('dropout.seedsIndependent', bothDroppedSeed / n, p * p, n),
      throwsMatching(
        'dropout.badP',
        () => dropoutForward(ctx, tx, 1, seed, 0, layout),
        /dropoutForward: p must lie in \[0, 1\)/,
      ),
      throwsMatching(
        'dropout.badSeed',
        () => dropoutForward(ctx, tx, 0.1, tx, 0, layout),
        /dropoutForward: seed .* expected 4/,
      ),
      throwsMatching(
        'dropout.badLayout',
        () => dropoutForward(ctx, tx, 0.1, seed, 0, { groupSize: 1000, groups: 3, groupBase: 0 }),
        /dropoutForward: x has \d+ elements, not a whole number of samples/,
      ),
    ];
  },
};
