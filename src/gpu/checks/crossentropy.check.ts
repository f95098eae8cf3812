import { crossEntropyBackward, crossEntropyForward, targetLogit } from '../kernels/crossentropy';
import { crossEntropyRef } from '../../reference/crossentropy';
import { randint, randn } from '../../util/rng';
import type { GpuContext } from '../context';
import { noGpuErrors } from './gpu-errors';
import { compare, type CheckResult, type KernelCheck } from './harness';
import { throwsMatching } from './throws';

async function one(ctx: GpuContext, N: number, V: number, logitScale: number, seed: number): Promise<CheckResult[]> {
  const tag = `crossentropy[${N}x${V}]`;
  const x = randn(N * V, seed, logitScale);
  const targets = randint(N, V, seed + 1);
  targets[1] = -1; // ignored rows
  targets[N - 1] = -100;
  targets[0] = V - 1; // last column (the partial tail of the last stride)
  const scale = 1 / (N - 2);
  const logits = ctx.tensorFrom(x),
    tt = ctx.tensorFrom(targets),
    losses = ctx.tensor([N]),
    lse = ctx.tensor([N]);
  const dlogits = ctx.tensorFrom(new Float32Array(N * V).fill(Number.NaN)); // overwritten, even ignored rows
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([
      crossEntropyForward(ctx, logits, tt, losses, lse, N, V),
      crossEntropyBackward(ctx, logits, tt, lse, dlogits, N, V, scale),
    ]),
  );
  const ref = crossEntropyRef(x, targets, N, V, scale);
  return [
    errors,
    compare(`${tag}.fwd.losses`, await ctx.read(losses), ref.losses, 1e-5),
    compare(`${tag}.fwd.lse`, await ctx.read(lse), ref.lse, 1e-6),
    compare(`${tag}.bwd.dlogits`, await ctx.read(dlogits), ref.dlogits, 1e-5),
  ];
}

/** Target logits of a vocab shard: targets numbered within the shard, others (and ignored) 0. */
async function targets(ctx: GpuContext, N: number, V: number, seed: number): Promise<CheckResult[]> {
  const tag = `crossentropy.targetLogit[${N}x${V}]`;
  const x = randn(N * V, seed);
  const t = randint(N, 3 * V, seed + 1).map((v) => v - V); // a third below the shard, a third inside, a third above
  t[0] = V - 1;
  t[1] = 0;
  const logits = ctx.tensorFrom(x),
    tt = ctx.tensorFrom(t),
    out = ctx.tensorFrom(new Float32Array(N).fill(Number.NaN));
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () => ctx.run([targetLogit(ctx, logits, tt, out, N, V)]));
  const want = Array.from(t, (v, r) => (v >= 0 && v < V ? x[r * V + v] : 0));
  return [errors, compare(`${tag}`, await ctx.read(out), want, 0)];
}

export const crossEntropyCheck: KernelCheck = {
  name: 'crossentropy',
  async run(ctx) {
    const small = await one(ctx, 13, 1000, 3, 300);
    const gpt2Vocab = await one(ctx, 5, 50304, 8, 310); // large V, wide logits
    const logits = ctx.tensor([4, 10]),
      t = ctx.tensor([4]),
      l = ctx.tensor([4]);
    return [
      ...small,
      ...gpt2Vocab,
      ...(await targets(ctx, 300, 37, 320)),
      throwsMatching(
        'crossentropy.badShape',
        () => crossEntropyForward(ctx, logits, t, l, l, 4, 11),
        /crossEntropyForward: logits .* expected 44/,
      ),
    ];
  },
};
