// The unfused causal attention as the model runs it (attentionProducts: causal tile skipping in
// every batched product, through matmul()'s own plans, with the causal softmax between them)
// against the f64 attention reference: the probabilities, the output and dq, dk, dv. The (BH, T, T)
// buffers start as NaN, so an output the products skip and something then reads shows. T is no
// multiple of a tile (nor of 4 in the second case, which takes the scalar kernel); on a GPU that
// splits K of long products a third case takes the batched split-K path. Where T allows vec4
// products, the recomputing backward's path runs too: the softmax leaves each row's log-sum-exp,
// and Q·Kᵀ with the epilogue 'probsFromLse' writes the probabilities again into a NaN-filled buffer
// (every entry, zeros above the diagonal included).
import { causalSoftmaxBackward, causalSoftmaxForward } from '../kernels/attention';
import { attentionProducts } from '../kernels/attention-products';
import { matmul, vec4Aligned } from '../kernels/matmul';
import { causalSoftmaxRef } from '../../reference/attention';
import { causalAttentionBackwardRef, causalAttentionRef } from '../../reference/fused-attention';
import { randn } from '../../util/rng';
import type { GpuContext } from '../context';
import type { GpuTensor } from '../tensor';
import { noGpuErrors } from './gpu-errors';
import { type CheckResult, compare, type KernelCheck } from './harness';

/** Q·Kᵀ of each head, (BH, T, T) */
function scoresRef(q: Float32Array, k: Float32Array, BH: number, T: number, hd: number): Float64Array {
  const s = new Float64Array(BH * T * T);
  for (let bh = 0; bh < BH; bh++)
    for (let i = 0; i < T; i++)
      for (let j = 0; j < T; j++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[(bh * T + i) * hd + d] * k[(bh * T + j) * hd + d];
        s[(bh * T + i) * T + j] = dot;
      }
  return s;
}

async function chain(ctx: GpuContext, BH: number, T: number, hd: number, seed: number): Promise<CheckResult[]> {
  const tag = `attention.causalProducts[${BH},${T},${hd}]`;
  const scale = 1 / Math.sqrt(hd);
  const n = BH * T * hd;
  const [q, k, v, dy] = [0, 1, 2, 3].map((i) => randn(n, seed + i));
  const [tq, tk, tv, tdy] = [q, k, v, dy].map((x) => ctx.tensorFrom(x));
  const att = ctx.tensorFrom(new Float32Array(BH * T * T).fill(Number.NaN)),
    datt = ctx.tensorFrom(new Float32Array(BH * T * T).fill(Number.NaN));
  const [y, dq, dk, dv] = [0, 1, 2, 3].map(() => ctx.tensor([BH, T, hd]));
  const lse = ctx.tensor([BH, T]);
  const mm = attentionProducts(BH, T, hd);
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([
      ...matmul(ctx, tq, tk, att, mm.scores),
      causalSoftmaxForward(ctx, att, BH, T, scale, lse),
      ...matmul(ctx, att, tv, y, mm.values),
      ...matmul(ctx, tdy, tv, datt, mm.probsGrad),
      ...matmul(ctx, att, tdy, dv, mm.valuesGrad),
      causalSoftmaxBackward(ctx, att, datt, BH, T, scale),
      ...matmul(ctx, datt, tk, dq, mm.queriesGrad),
      ...matmul(ctx, datt, tq, dk, mm.keysGrad),
    ]),
  );
  const fwd = causalAttentionRef(q, k, v, BH, T, hd, scale);
  const bwd = causalAttentionBackwardRef(q, k, v, dy, BH, T, hd, scale);
  const probs = causalSoftmaxRef(scoresRef(q, k, BH, T, hd), BH, T, scale);
  const out = [
    errors,
    compare(`${tag}.probs`, await ctx.read(att), probs, 1e-5),
    compare(`${tag}.lse`, await ctx.read(lse), fwd.lse, 1e-5),
    ...(await probsFromLse(ctx, tag, { q: tq, k: tk, lse }, { BH, T, hd, scale }, probs)),
    compare(`${tag}.y`, await ctx.read(y), fwd.o, 1e-5),
    compare(`${tag}.dq`, await ctx.read(dq), bwd.dq, 1e-4),
    compare(`${tag}.dk`, await ctx.read(dk), bwd.dk, 1e-4),
    compare(`${tag}.dv`, await ctx.read(dv), bwd.dv, 1e-5),
  ];
  for (const t of [tq, tk, tv, tdy, att, datt, y, dq, dk, dv, lse]) t.buffer.destroy();
  return out;
}

/** Q·Kᵀ with the epilogue 'probsFromLse' into a NaN-filled buffer, against the probabilities. */
async function probsFromLse(
  ctx: GpuContext,
  tag: string,
  t: { q: GpuTensor; k: GpuTensor; lse: GpuTensor },
  s: { BH: number; T: number; hd: number; scale: number },
  want: Float64Array,
): Promise<CheckResult[]> {
  const spec = { ...attentionProducts(s.BH, s.T, s.hd).scores, alpha: s.scale };
  const att = ctx.tensorFrom(new Float32Array(s.BH * s.T * s.T).fill(Number.NaN));
  if (!vec4Aligned(spec, t.q, t.k, att)) {
    att.buffer.destroy();
    return [];
  }
  const errors = await noGpuErrors(ctx, `${tag}.probsFromLse.gpuErrors`, () =>
    ctx.run(matmul(ctx, t.q, t.k, att, spec, { kind: 'probsFromLse', lse: t.lse })),
  );
  const out = [errors, compare(`${tag}.probsFromLse`, await ctx.read(att), want, 1e-5)];
  att.buffer.destroy();
  return out;
}

export const attentionCausalCheck: KernelCheck = {
  name: 'attention_causal',
  async run(ctx) {
    const out = [...(await chain(ctx, 2, 136, 16, 960)), ...(await chain(ctx, 3, 130, 12, 970))];
    // K of each matrix ≥ 2·512: a real GPU's plan splits dV's and dK's products (batchedSplitKFor)
    if (!ctx.adapter?.isFallbackAdapter) out.push(...(await chain(ctx, 2, 1056, 64, 980)));
    return out;
  },
};
