// Reductions must be bitwise repeatable (fixed summation order, no float atomics):
// each kernel runs twice from identical inputs and the outputs must match exactly.
import { biasGrad } from '../kernels/elementwise';
import { bucketCapacity, bucketTokens, embeddingBackward } from '../kernels/embedding';
import { crossEntropyForward } from '../kernels/crossentropy';
import { layernormParamGrad } from '../kernels/layernorm';
import { gradSquaredNorm, numPartials } from '../kernels/optimizer';
import { randint, randn } from '../../util/rng';
import type { GpuContext } from '../context';
import type { Dispatch } from '../dispatch';
import type { GpuTensor } from '../tensor';
import type { CheckResult, KernelCheck } from './harness';

/** zeroes `out`, runs, reads; twice; counts differing elements (bitwise) */
async function twice(ctx: GpuContext, name: string, out: GpuTensor, make: () => Dispatch[]): Promise<CheckResult> {
  const list = make();
  const results: Uint32Array[] = [];
  for (let k = 0; k < 2; k++) {
    ctx.write(out, new Float32Array(out.length));
    ctx.run(list);
    results.push(new Uint32Array(await ctx.readRaw(out)));
  }
  let diff = 0;
  for (let i = 0; i < out.length; i++) if (results[0][i] !== results[1][i]) diff++;
  return {
    name,
    relErr: diff,
    tol: 0,
    detail: diff ? `${diff} of ${out.length} elements differ between runs` : undefined,
  };
}

export const determinismCheck: KernelCheck = {
  name: 'determinism',
  async run(ctx) {
    const N = 2053,
      C = 131,
      V = 3001,
      P = 1_000_003;
    const dy = ctx.tensorFrom(randn(N * C, 800)),
      x = ctx.tensorFrom(randn(N * C, 801));
    const mean = ctx.tensorFrom(randn(N, 802)),
      rstd = ctx.tensorFrom(randn(N, 803).map(Math.abs));
    const dw = ctx.tensor([C]),
      db = ctx.tensor([C]),
      dbias = ctx.tensor([C]);
    const toks = randint(N, 17, 804); // few distinct tokens: long buckets
    const buckets = ctx.tensorFrom(bucketTokens(toks), [bucketCapacity(N)]),
      dwte = ctx.tensor([17, C]);
    const logits = ctx.tensorFrom(randn(64 * V, 805, 4)),
      targets = ctx.tensorFrom(randint(64, V, 806)),
      losses = ctx.tensor([64]),
      lse = ctx.tensor([64]);
    const g = ctx.tensorFrom(randn(P, 807)),
      parts = ctx.tensor([numPartials(ctx, P)]),
      sq = ctx.tensor([1]);
    return [
      await twice(ctx, 'determinism.biasGrad', dbias, () => [biasGrad(ctx, dy, dbias, N, C)]),
      await twice(ctx, 'determinism.layernormParamGrad', dw, () => [
        layernormParamGrad(ctx, dy, x, mean, rstd, dw, db, N, C),
      ]),
      await twice(ctx, 'determinism.embeddingBackward', dwte, () => [embeddingBackward(ctx, dy, buckets, dwte, C, N)]),
      await twice(ctx, 'determinism.crossEntropyForward', lse, () => [
        crossEntropyForward(ctx, logits, targets, losses, lse, 64, V),
      ]),
      await twice(ctx, 'determinism.gradSquaredNorm', sq, () => gradSquaredNorm(ctx, g, parts, sq)),
    ];
  },
};
