import { adamw, type AdamHyper, gradSquaredNorm, numPartials, type Range } from '../kernels/optimizer';
import { adamwStepRef, squaredNormRef } from '../../reference/optimizer';
import { randn } from '../../util/rng';
import type { GpuContext } from '../context';
import { noGpuErrors } from './gpu-errors';
import { compare, type CheckResult, type KernelCheck } from './harness';
import { guardsIntact, packed } from './packed';
import { throwsMatching } from './throws';

async function norm(ctx: GpuContext, P: number, seed: number, skip: Range[] = []): Promise<CheckResult[]> {
  const tag = `optimizer.gradSquaredNorm[${P}${skip.map((r) => ` skip ${r.start}..${r.end}`).join('')}]`;
  const g = randn(P, seed);
  for (const r of skip) g.fill(Number.NaN, r.start, r.end); // skipped elements are never read into the sum
  const grads = ctx.tensorFrom(g),
    partials = ctx.tensor([numPartials(ctx, P)]),
    out = ctx.tensor([1]);
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run(gradSquaredNorm(ctx, grads, partials, out, skip)),
  );
  const kept = g.filter((_, i) => !skip.some((r) => i >= r.start && i < r.end));
  return [errors, compare(tag, await ctx.read(out), [squaredNormRef(kept)], 1e-6)];
}

const LRS = [1e-3, 3e-3, 2e-3, 5e-4, 1e-3];

/** Several AdamW steps with fresh gradients each step; params/grads are views in shared buffers. */
async function steps(
  ctx: GpuContext,
  P: number,
  decayCount: number,
  hyper: AdamHyper,
  seed: number,
): Promise<CheckResult[]> {
  const tag = `optimizer.adamw[P=${P},decay=${decayCount},clip=${hyper.maxGradNorm}]`;
  const p0 = randn(P, seed);
  const params = packed(ctx, { other: [7], flat: [P] }, 'params');
  const grads = packed(ctx, { flat: [P] }, 'grads');
  ctx.write(params.views.flat, p0);
  const m = ctx.tensor([P]),
    v = ctx.tensor([P]),
    step = ctx.tensor([4]),
    partials = ctx.tensor([numPartials(ctx, P)]),
    sq = ctx.tensor([1]);
  const list = [
    ...gradSquaredNorm(ctx, grads.views.flat, partials, sq),
    adamw(ctx, params.views.flat, grads.views.flat, m, v, decayCount, step, sq, hyper),
  ];
  const rp = Float64Array.from(p0),
    rm = new Float64Array(P),
    rv = new Float64Array(P);
  let errors: CheckResult | undefined;
  for (const [s, lr] of LRS.entries()) {
    const t = s + 1;
    const g = randn(P, seed + 100 + s, 0.5);
    ctx.write(grads.views.flat, g);
    ctx.write(step, Float32Array.from([lr, 1 - hyper.beta1 ** t, 1 - hyper.beta2 ** t, 0]));
    const e = await noGpuErrors(ctx, `${tag}.gpuErrors`, () => ctx.run(list));
    errors = errors?.relErr ? errors : e;
    adamwStepRef(rp, rm, rv, g, decayCount, lr, t, hyper);
  }
  const got = await ctx.read(params.views.flat);
  return [
    errors!,
    compare(`${tag}.params`, got, rp, 1e-5),
    compare(
      `${tag}.paramDelta`,
      got.map((x, i) => x - p0[i]),
      rp.map((x, i) => x - p0[i]),
      2e-4,
    ),
    compare(`${tag}.m`, await ctx.read(m), rm, 1e-5),
    compare(`${tag}.v`, await ctx.read(v), rv, 1e-5),
    await guardsIntact(ctx, params, `${tag}.guards`),
  ];
}

export const optimizerCheck: KernelCheck = {
  name: 'optimizer',
  async run(ctx) {
    const hyper: AdamHyper = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1.0 };
    const t = ctx.tensor([10]),
      one = ctx.tensor([1]),
      four = ctx.tensor([4]);
    return [
      ...(await norm(ctx, 1000, 600)),
      ...(await norm(ctx, 300_013, 601)), // more partials than one pass covers: grid-stride loop
      ...(await norm(ctx, 5000, 602, [
        { start: 0, end: 640 },
        { start: 1280, end: 3001 },
      ])),
      ...(await norm(ctx, 300_013, 603, [{ start: 250_000, end: 300_013 }])),
      throwsMatching(
        'optimizer.badSkip',
        () => gradSquaredNorm(ctx, t, ctx.tensor([1]), one, [{ start: 4, end: 11 }]),
        /gradSquaredNorm: skip range \[4, 11\) is not inside \[0, 10\]/,
      ),
      ...(await steps(ctx, 5037, 3000, hyper, 610)), // clipping active (‖g‖ ≈ 35)
      ...(await steps(ctx, 4099, 4099, { ...hyper, weightDecay: 0.01, maxGradNorm: 0 }, 620)),
      throwsMatching(
        'optimizer.badPartials',
        () => gradSquaredNorm(ctx, t, four, one),
        /gradSquaredNorm: partials .* expected 1/,
      ),
      throwsMatching(
        'optimizer.badDecayCount',
        () => adamw(ctx, t, t, ctx.tensor([10]), ctx.tensor([10]), 11, four, one, hyper),
        /adamw: decayCount/,
      ),
      throwsMatching(
        'optimizer.badM',
        () => adamw(ctx, t, t, one, ctx.tensor([10]), 5, four, one, hyper),
        /adamw: m .* expected 10/,
      ),
    ];
  },
};
