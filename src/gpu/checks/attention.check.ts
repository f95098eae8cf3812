import {
  causalSoftmaxBackward,
  causalSoftmaxForward,
  mergeHeads,
  qkvSplitBackward,
  qkvSplitForward,
  registerRowWorkgroup,
  splitHeads,
  type RotarySpec,
} from '../kernels/attention';
import { linearWorkgroup } from '../kernels/workgroup';
import {
  causalSoftmaxBackwardRef,
  causalSoftmaxRef,
  mergeHeadsRef,
  qkvSplitBackwardRef,
  qkvSplitRef,
  splitHeadsRef,
} from '../../reference/attention';
import { randn } from '../../util/rng';
import type { GpuContext } from '../context';
import { noGpuErrors } from './gpu-errors';
import { compare, type CheckResult, type KernelCheck } from './harness';
import { throwsMatching } from './throws';

async function qkv(
  ctx: GpuContext,
  B: number,
  T: number,
  H: number,
  hd: number,
  rotary: RotarySpec | null,
  seed: number,
): Promise<CheckResult[]> {
  const tag = `attention.qkv[${B},${T},${H},${hd},rot=${rotary?.dims ?? 0}]`;
  const n = B * H * T * hd;
  const x = randn(3 * n, seed),
    gq = randn(n, seed + 1),
    gk = randn(n, seed + 2),
    gv = randn(n, seed + 3);
  const tqkv = ctx.tensorFrom(x),
    q = ctx.tensor([B, H, T, hd]),
    k = ctx.tensor([B, H, T, hd]),
    v = ctx.tensor([B, H, T, hd]);
  const dq = ctx.tensorFrom(gq),
    dk = ctx.tensorFrom(gk),
    dv = ctx.tensorFrom(gv);
  const dqkv = ctx.tensorFrom(new Float32Array(3 * n).fill(Number.NaN)); // must be overwritten
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([
      qkvSplitForward(ctx, tqkv, q, k, v, B, T, H, hd, rotary),
      qkvSplitBackward(ctx, dq, dk, dv, dqkv, B, T, H, hd, rotary),
    ]),
  );
  const f = qkvSplitRef(x, B, T, H, hd, rotary);
  return [
    errors,
    compare(`${tag}.fwd.q`, await ctx.read(q), f.q, 1e-5),
    compare(`${tag}.fwd.k`, await ctx.read(k), f.k, 1e-5),
    compare(`${tag}.fwd.v`, await ctx.read(v), f.v, 0),
    compare(`${tag}.bwd.dqkv`, await ctx.read(dqkv), qkvSplitBackwardRef(gq, gk, gv, B, T, H, hd, rotary), 1e-5),
  ];
}

/** nanAbove: the entries j > i of the scores and of dprobs are NaN on the GPU (the products leave
 *  whatever the buffer held there): neither kernel may let them into its result */
async function softmax(
  ctx: GpuContext,
  BH: number,
  T: number,
  scale: number,
  seed: number,
  nanAbove = false,
): Promise<CheckResult[]> {
  const kernel = registerRowWorkgroup(ctx, T) ? 'vec4' : 'loop';
  const tag = `attention.softmax.${kernel}[${BH},${T}]${nanAbove ? '.nanAbove' : ''}`;
  const scores = randn(BH * T * T, seed, 3);
  const probsRef = causalSoftmaxRef(scores, BH, T, scale);
  const dprobs = randn(BH * T * T, seed + 1);
  const masked = (x: Float32Array) =>
    nanAbove ? x.map((v, at) => (at % T > Math.floor(at / T) % T ? Number.NaN : v)) : x;
  const att = ctx.tensorFrom(masked(scores)),
    probs = ctx.tensorFrom(Float32Array.from(probsRef)),
    datt = ctx.tensorFrom(masked(dprobs));
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([causalSoftmaxForward(ctx, att, BH, T, scale), causalSoftmaxBackward(ctx, probs, datt, BH, T, scale)]),
  );
  return [
    errors,
    compare(`${tag}.fwd`, await ctx.read(att), probsRef, 1e-5),
    compare(
      `${tag}.bwd`,
      await ctx.read(datt),
      causalSoftmaxBackwardRef(Float32Array.from(probsRef), dprobs, BH, T, scale),
      1e-5,
    ),
  ];
}

async function heads(
  ctx: GpuContext,
  B: number,
  T: number,
  H: number,
  hd: number,
  seed: number,
): Promise<CheckResult[]> {
  const tag = `attention.heads[${B},${T},${H},${hd}]`;
  const n = B * T * H * hd;
  const y = randn(n, seed),
    g = randn(n, seed + 1);
  const ty = ctx.tensorFrom(y),
    out = ctx.tensor([B * T, H * hd]),
    tg = ctx.tensorFrom(g),
    dy = ctx.tensor([B, H, T, hd]);
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([mergeHeads(ctx, ty, out, B, T, H, hd), splitHeads(ctx, tg, dy, B, T, H, hd)]),
  );
  return [
    errors,
    compare(`${tag}.merge`, await ctx.read(out), mergeHeadsRef(y, B, T, H, hd), 0),
    compare(`${tag}.split`, await ctx.read(dy), splitHeadsRef(g, B, T, H, hd), 0),
  ];
}

export const attentionCheck: KernelCheck = {
  name: 'attention',
  async run(ctx) {
    const bad = ctx.tensor([2 * 5 * 3 * 8 * 3]),
      q = ctx.tensor([2 * 5 * 3 * 8]);
    return [
      ...(await qkv(ctx, 2, 13, 3, 10, { dims: 6, base: 10000 }, 400)), // partial rotary (rotary_pct < 1)
      ...(await qkv(ctx, 1, 50, 2, 8, { dims: 8, base: 10000 }, 410)),
      ...(await qkv(ctx, 2, 7, 3, 6, null, 420)),
      ...(await softmax(ctx, 5, 37, 0.3, 430)),
      ...(await softmax(ctx, 2, 300, 0.125, 440)), // T > workgroup size
      // rows held in registers (T % 4 = 0, up to 16 entries per invocation) and the looping kernel past that
      ...(await softmax(ctx, 3, 4, 0.5, 450)),
      ...(await softmax(ctx, 2, 64, 0.25, 460, true)),
      ...(await softmax(ctx, 1, 1040, 0.125, 470, true)),
      ...(await softmax(ctx, 1, 2048, 0.125, 480)),
      ...(await softmax(ctx, 1, 16 * linearWorkgroup(ctx) + 4, 0.125, 490, true)),
      ...(await softmax(ctx, 2, 37, 0.3, 500, true)),
      ...(await heads(ctx, 2, 13, 3, 10, 450)),
      throwsMatching(
        'attention.badRotary',
        () => qkvSplitForward(ctx, bad, q, q, q, 2, 5, 3, 8, { dims: 7, base: 10000 }),
        /qkvSplitForward: rotary.dims/,
      ),
      throwsMatching(
        'attention.badShape',
        () => causalSoftmaxForward(ctx, q, 2, 16, 1),
        /causalSoftmaxForward: att .* expected 512/,
      ),
    ];
  },
};
