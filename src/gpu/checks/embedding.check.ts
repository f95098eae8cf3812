import {
  bucketCapacity,
  bucketTokens,
  embeddingBackward,
  embeddingForward,
  positionEmbeddingBackward,
} from '../kernels/embedding';
import { embeddingBackwardRef, embeddingRef, positionEmbeddingBackwardRef } from '../../reference/embedding';
import { randint, randn } from '../../util/rng';
import type { GpuContext } from '../context';
import { noGpuErrors } from './gpu-errors';
import { compare, type CheckResult, type KernelCheck } from './harness';
import { guardsIntact, packed } from './packed';
import { throwsMatching } from './throws';

async function one(
  ctx: GpuContext,
  B: number,
  T: number,
  C: number,
  V: number,
  maxPos: number,
  seed: number,
): Promise<CheckResult[]> {
  const tag = `embedding[${B},${T},${C},V=${V}]`;
  const BT = B * T;
  const tokens = randint(BT, V, seed); // BT > V: many repeated tokens
  const wte = randn(V * C, seed + 1),
    wpe = randn(maxPos * C, seed + 2),
    dy = randn(BT * C, seed + 3);
  const dwte0 = randn(V * C, seed + 4),
    dwpe0 = randn(maxPos * C, seed + 5);
  const params = packed(ctx, { wte: [V, C], wpe: [maxPos, C] }, 'params');
  const grads = packed(ctx, { dwte: [V, C], dwpe: [maxPos, C] }, 'grads');
  ctx.write(params.views.wte, wte);
  ctx.write(params.views.wpe, wpe);
  ctx.write(grads.views.dwte, dwte0);
  ctx.write(grads.views.dwpe, dwpe0);
  const tt = ctx.tensorFrom(tokens),
    out = ctx.tensor([BT, C]),
    outNoPos = ctx.tensor([BT, C]),
    dout = ctx.tensorFrom(dy);
  const buckets = ctx.tensorFrom(bucketTokens(tokens), [bucketCapacity(BT)]);
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([
      embeddingForward(ctx, tt, params.views.wte, params.views.wpe, out, T, C),
      embeddingForward(ctx, tt, params.views.wte, null, outNoPos, T, C),
      embeddingBackward(ctx, dout, buckets, grads.views.dwte, C, BT),
      positionEmbeddingBackward(ctx, dout, grads.views.dwpe, B, T, C),
    ]),
  );
  const dwteWant = embeddingBackwardRef(tokens, dy, V, C).map((g, i) => g + dwte0[i]);
  const dwpeWant = new Float64Array(maxPos * C).map((_, i) => dwpe0[i]);
  positionEmbeddingBackwardRef(dy, B, T, C).forEach((g, i) => {
    dwpeWant[i] += g;
  });
  return [
    errors,
    compare(`${tag}.fwd`, await ctx.read(out), embeddingRef(tokens, wte, wpe, T, C), 1e-7),
    compare(`${tag}.fwd.noPositions`, await ctx.read(outNoPos), embeddingRef(tokens, wte, null, T, C), 0),
    compare(`${tag}.bwd.dwte(+=)`, await ctx.read(grads.views.dwte), dwteWant, 1e-6),
    compare(`${tag}.bwd.dwpe(+=)`, await ctx.read(grads.views.dwpe), dwpeWant, 1e-6),
    await guardsIntact(ctx, grads, `${tag}.bwd.guards`),
  ];
}

/** A vocab-parallel shard: the rank holds table rows [start, start + count). */
async function shard(
  ctx: GpuContext,
  B: number,
  T: number,
  C: number,
  V: number,
  start: number,
  count: number,
  seed: number,
): Promise<CheckResult[]> {
  const tag = `embedding.vocabShard[${B},${T},${C},rows ${start}..${start + count} of ${V}]`;
  const BT = B * T;
  const tokens = randint(BT, V, seed);
  const wte = randn(V * C, seed + 1),
    dy = randn(BT * C, seed + 3);
  const rows = { start, count };
  const part = ctx.tensorFrom(wte.slice(start * C, (start + count) * C)),
    dpart = ctx.tensor([count, C]);
  const tt = ctx.tensorFrom(tokens),
    out = ctx.tensor([BT, C]),
    dout = ctx.tensorFrom(dy);
  const buckets = ctx.tensorFrom(bucketTokens(tokens, rows), [bucketCapacity(BT)]);
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([
      embeddingForward(ctx, tt, part, null, out, T, C, rows),
      embeddingBackward(ctx, dout, buckets, dpart, C, BT),
    ]),
  );
  const owned = (t: number) => t >= start && t < start + count;
  const want = embeddingRef(tokens, wte, null, T, C).map((x, i) => (owned(tokens[Math.floor(i / C)]) ? x : 0));
  return [
    errors,
    compare(`${tag}.fwd`, await ctx.read(out), want, 0),
    compare(
      `${tag}.bwd.dwte`,
      await ctx.read(dpart),
      embeddingBackwardRef(tokens, dy, V, C).slice(start * C, (start + count) * C),
      1e-6,
    ),
  ];
}

export const embeddingCheck: KernelCheck = {
  name: 'embedding',
  async run(ctx) {
    const tokens = ctx.tensor([10]),
      wte = ctx.tensor([7, 4]),
      out = ctx.tensor([10, 4]);
    return [
      ...(await one(ctx, 3, 17, 70, 20, 19, 500)),
      ...(await one(ctx, 2, 9, 300, 7, 9, 510)), // C > workgroup size
      ...(await shard(ctx, 3, 11, 24, 20, 5, 8, 520)),
      ...(await shard(ctx, 2, 8, 16, 12, 0, 6, 530)),
      throwsMatching(
        'embedding.badRows',
        () => embeddingForward(ctx, tokens, wte, null, out, 5, 4, { start: 2, count: 8 }),
        /embeddingForward: vocabulary rows \[2, 10\) do not fit wte of 7 rows/,
      ),
      throwsMatching(
        'embedding.badWpe',
        () => embeddingForward(ctx, tokens, wte, ctx.tensor([4, 4]), out, 5, 4),
        /embeddingForward: wpe .* at least 5 rows/,
      ),
      throwsMatching(
        'embedding.badBuckets',
        () => embeddingBackward(ctx, out, tokens, wte, 4, 10),
        /embeddingBackward: buckets .* expected 41/,
      ),
      throwsMatching(
        'embedding.negativeToken',
        () => bucketTokens(Int32Array.from([3, -1])),
        /bucketTokens: token -1 at position 1/,
      ),
    ];
  },
};
