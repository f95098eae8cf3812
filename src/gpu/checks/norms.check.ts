import { layernormBackward, layernormForward, layernormParamGrad } from '../kernels/layernorm';
import { rmsnormBackward, rmsnormForward, rmsnormParamGrad } from '../kernels/rmsnorm';
import { layernormBackwardRef, layernormRef, rmsnormBackwardRef, rmsnormRef } from '../../reference/norms';
import { randn } from '../../util/rng';
import type { GpuContext } from '../context';
import { noGpuErrors } from './gpu-errors';
import { compare, type CheckResult, type KernelCheck } from './harness';
import { guardsIntact, packed } from './packed';
import { throwsMatching } from './throws';

// (N, C) pairs: C below, between and above power-of-two workgroup sizes, never a multiple
const SHAPES: Array<[number, number]> = [
  [37, 300],
  [50, 45],
];
const EPS = 1e-5;

function inputs(N: number, C: number, seed: number) {
  const x = randn(N * C, seed, 2).map((v, i) => v + 0.5 + (i % 7) * 0.1); // non-zero mean
  const w = randn(C, seed + 1, 0.5).map((v) => v + 1);
  const b = randn(C, seed + 2, 0.2);
  const dy = randn(N * C, seed + 3);
  const dinp0 = randn(N * C, seed + 4),
    dw0 = randn(C, seed + 5),
    db0 = randn(C, seed + 6);
  return { x, w, b, dy, dinp0, dw0, db0 };
}

const plus = (a: Float64Array, b: ArrayLike<number>) => a.map((v, i) => v + b[i]);

async function layernorm(ctx: GpuContext, N: number, C: number, seed: number): Promise<CheckResult[]> {
  const d = inputs(N, C, seed);
  const tag = `layernorm[${N}x${C}]`;
  const params = packed(ctx, { weight: [C], bias: [C] }, 'params');
  const grads = packed(ctx, { dweight: [C], dbias: [C] }, 'grads');
  ctx.write(params.views.weight, d.w);
  ctx.write(params.views.bias, d.b);
  ctx.write(grads.views.dweight, d.dw0);
  ctx.write(grads.views.dbias, d.db0);
  const inp = ctx.tensorFrom(d.x),
    out = ctx.tensor([N, C]),
    mean = ctx.tensor([N]),
    rstd = ctx.tensor([N]);
  const dout = ctx.tensorFrom(d.dy),
    dinp = ctx.tensorFrom(d.dinp0);
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([
      layernormForward(ctx, inp, params.views.weight, params.views.bias, out, mean, rstd, N, C, EPS),
      layernormBackward(ctx, dout, inp, params.views.weight, mean, rstd, dinp, N, C),
      layernormParamGrad(ctx, dout, inp, mean, rstd, grads.views.dweight, grads.views.dbias, N, C),
    ]),
  );
  const f = layernormRef(d.x, d.w, d.b, N, C, EPS);
  const g = layernormBackwardRef(d.dy, d.x, d.w, N, C, EPS);
  return [
    errors,
    compare(`${tag}.fwd.out`, await ctx.read(out), f.out, 1e-5),
    compare(`${tag}.fwd.mean`, await ctx.read(mean), f.mean, 1e-6),
    compare(`${tag}.fwd.rstd`, await ctx.read(rstd), f.rstd, 1e-5),
    compare(`${tag}.bwd.dinp(+=)`, await ctx.read(dinp), plus(g.dinp, d.dinp0), 1e-5),
    compare(`${tag}.bwd.dweight(+=)`, await ctx.read(grads.views.dweight), plus(g.dweight, d.dw0), 1e-5),
    compare(`${tag}.bwd.dbias(+=)`, await ctx.read(grads.views.dbias), plus(g.dbias, d.db0), 1e-5),
    await guardsIntact(ctx, grads, `${tag}.bwd.guards`),
    throwsMatching(
      `${tag}.badShape`,
      () => layernormForward(ctx, inp, params.views.weight, params.views.bias, out, mean, rstd, N, C + 1, EPS),
      /layernormForward: inp .* expected/,
    ),
  ];
}

async function rmsnorm(ctx: GpuContext, N: number, C: number, seed: number): Promise<CheckResult[]> {
  const d = inputs(N, C, seed);
  const tag = `rmsnorm[${N}x${C}]`;
  const grads = packed(ctx, { other: [5], dweight: [C] }, 'grads');
  ctx.write(grads.views.dweight, d.dw0);
  const weight = ctx.tensorFrom(d.w),
    inp = ctx.tensorFrom(d.x),
    out = ctx.tensor([N, C]),
    rstd = ctx.tensor([N]);
  const dout = ctx.tensorFrom(d.dy),
    dinp = ctx.tensorFrom(d.dinp0);
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([
      rmsnormForward(ctx, inp, weight, out, rstd, N, C, EPS),
      rmsnormBackward(ctx, dout, inp, weight, rstd, dinp, N, C),
      rmsnormParamGrad(ctx, dout, inp, rstd, grads.views.dweight, N, C),
    ]),
  );
  const f = rmsnormRef(d.x, d.w, N, C, EPS);
  const g = rmsnormBackwardRef(d.dy, d.x, d.w, N, C, EPS);
  return [
    errors,
    compare(`${tag}.fwd.out`, await ctx.read(out), f.out, 1e-5),
    compare(`${tag}.fwd.rstd`, await ctx.read(rstd), f.rstd, 1e-5),
    compare(`${tag}.bwd.dinp(+=)`, await ctx.read(dinp), plus(g.dinp, d.dinp0), 1e-5),
    compare(`${tag}.bwd.dweight(+=)`, await ctx.read(grads.views.dweight), plus(g.dweight, d.dw0), 1e-5),
    await guardsIntact(ctx, grads, `${tag}.bwd.guards`),
    throwsMatching(
      `${tag}.badShape`,
      () => rmsnormBackward(ctx, dout, inp, weight, rstd, dinp, N + 1, C),
      /rmsnormBackward: dout .* expected/,
    ),
  ];
}

export const layernormCheck: KernelCheck = {
  name: 'layernorm',
  async run(ctx) {
    const out: CheckResult[] = [];
    for (const [i, [N, C]] of SHAPES.entries()) out.push(...(await layernorm(ctx, N, C, 100 + 10 * i)));
    return out;
  },
};

export const rmsnormCheck: KernelCheck = {
  name: 'rmsnorm',
  async run(ctx) {
    const out: CheckResult[] = [];
    for (const [i, [N, C]] of SHAPES.entries()) out.push(...(await rmsnorm(ctx, N, C, 200 + 10 * i)));
    return out;
  },
};
