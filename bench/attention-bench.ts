// Causal attention at NeoX 125M's shape (B·H = 48 heads of T = 2048, hd = 64): the unfused
// path (batched QKᵀ matmul, causal softmax over a (BH, T, T) buffer, PV matmul; backward
// likewise) against the fused kernels with each tiling that fits. Time, TFLOP/s counted
// causally (forward 2·BH·T²·hd, backward 5·BH·T²·hd: what the fused kernels compute), bytes
// of the buffers each path allocates, and the largest difference between the two paths' results.
import type { GpuContext } from '../src/gpu/context';
import type { Dispatch } from '../src/gpu/dispatch';
import { causalSoftmaxBackward, causalSoftmaxForward } from '../src/gpu/kernels/attention';
import {
  ATTENTION_SHAPES,
  type AttentionPass,
  attentionTiling,
  attentionTilingProblem,
  fusedAttentionBackward,
  fusedAttentionForward,
  tilingFor,
} from '../src/gpu/kernels/fused-attention';
import { matmul } from '../src/gpu/kernels/matmul';
import type { GpuTensor } from '../src/gpu/tensor';
import { patternTensor } from './fill';
import type { Timer, TimeOptions } from './timing';

export interface AttentionShape {
  B: number;
  H: number;
  T: number;
  hd: number;
}

export interface AttentionResult {
  name: string;
  shape: AttentionShape;
  pass: 'fwd' | 'bwd';
  method: string;
  ms?: number;
  tflops?: number;
  /** bytes of the buffers this path allocates beyond q, k, v, o, dO and their gradients */
  extraBytes?: number;
  /** max |fused - unfused| / max |unfused| over the pass's outputs */
  maxRelDiffToUnfused?: number;
  error?: string;
}

async function maxRelDiff(ctx: GpuContext, pairs: Array<[GpuTensor, GpuTensor]>): Promise<number> {
  let diff = 0,
    ref = 0;
  for (const [x, y] of pairs) {
    const [a, b] = [await ctx.read(x), await ctx.read(y)];
    for (let i = 0; i < a.length; i++) {
      diff = Math.max(diff, Math.abs(a[i] - b[i]) || (Number.isNaN(a[i] - b[i]) ? Infinity : 0));
      ref = Math.max(ref, Math.abs(b[i]));
    }
  }
  return diff / Math.max(ref, 1e-30);
}

export async function benchAttention(
  ctx: GpuContext,
  timer: Timer,
  s: AttentionShape,
  opts: TimeOptions = {},
): Promise<AttentionResult[]> {
  const BH = s.B * s.H,
    n = BH * s.T * s.hd,
    scale = 1 / Math.sqrt(s.hd);
  const shape = { BH, T: s.T, hd: s.hd, scale };
  const name = `attention B${s.B} H${s.H} T${s.T} hd${s.hd}`;
  const fwdFlops = 2 * BH * s.T * s.T * s.hd,
    bwdFlops = 2.5 * fwdFlops;
  const made: GpuTensor[] = [];
  const t = (len: number, label: string) => {
    const x = patternTensor(ctx, len, label);
    made.push(x);
    return x;
  };
  const out: AttentionResult[] = [];
  const timed = async (pass: 'fwd' | 'bwd', method: string, list: Dispatch[], extraBytes: number) => {
    const r: AttentionResult = { name, shape: s, pass, method, extraBytes };
    try {
      const m = await timer.time(list, opts);
      Object.assign(r, { ms: m.ms, tflops: (pass === 'fwd' ? fwdFlops : bwdFlops) / (m.ms * 1e9) });
    } catch (e) {
      r.error = (e as Error).message;
    }
    out.push(r);
    return r;
  };
  try {
    // inputs scaled down so that softmax stays well conditioned (the pattern is N(0, 1))
    const [q, k, v, dout] = [t(n, 'q'), t(n, 'k'), t(n, 'v'), t(n, 'dO')];
    const [o, dq, dk, dv] = [t(n, 'o'), t(n, 'dq'), t(n, 'dk'), t(n, 'dv')];
    const TT = BH * s.T * s.T;
    const unfusedBytes = TT * 4;
    const att = t(TT, 'att'),
      datt = t(TT, 'datt');
    const fwdUnfused = [
      ...matmul(ctx, q, k, att, { batch: BH, M: s.T, N: s.T, K: s.hd, transB: true }),
      causalSoftmaxForward(ctx, att, BH, s.T, scale),
      ...matmul(ctx, att, v, o, { batch: BH, M: s.T, N: s.hd, K: s.T }),
    ];
    const bwdUnfused = [
      ...matmul(ctx, dout, v, datt, { batch: BH, M: s.T, N: s.T, K: s.hd, transB: true }),
      ...matmul(ctx, att, dout, dv, { batch: BH, M: s.T, N: s.hd, K: s.T, transA: true }),
      causalSoftmaxBackward(ctx, att, datt, BH, s.T, scale),
      ...matmul(ctx, datt, k, dq, { batch: BH, M: s.T, N: s.hd, K: s.T }),
      ...matmul(ctx, datt, q, dk, { batch: BH, M: s.T, N: s.hd, K: s.T, transA: true }),
    ];
    await timed('fwd', 'unfused', fwdUnfused, unfusedBytes);
    await timed('bwd', 'unfused', bwdUnfused, 2 * unfusedBytes);
    ctx.run([...fwdUnfused, ...bwdUnfused]);
    const ref = [o, dq, dk, dv].map((x) => t(x.length, `${x.name}.unfused`));
    const enc = ctx.device.createCommandEncoder();
    [o, dq, dk, dv].forEach((x, i) => enc.copyBufferToBuffer(x.buffer, 0, ref[i].buffer, 0, x.length * 4));
    ctx.device.queue.submit([enc.finish()]);
    att.buffer.destroy();
    datt.buffer.destroy();

    const lse = t(BH * s.T, 'lse'),
      dsum = t(BH * s.T, 'dsum');
    const rowBytes = BH * s.T * 4;
    const tiled = (pass: AttentionPass) =>
      [null, ...ATTENTION_SHAPES].flatMap((shp) => {
        const tl = shp ? tilingFor(s.hd, shp) : attentionTiling(ctx, pass, s.hd);
        return tl && attentionTilingProblem(ctx, pass, tl) === null
          ? [{ label: shp ? `${tl.TX}x${tl.TY}` : 'auto', tl }]
          : [];
      });
    for (const { label, tl } of tiled('fwd')) {
      const r = await timed(
        'fwd',
        `fused ${label}`,
        [fusedAttentionForward(ctx, q, k, v, o, lse, shape, tl)],
        rowBytes,
      );
      if (label === 'auto') r.maxRelDiffToUnfused = await maxRelDiff(ctx, [[o, ref[0]]]);
    }
    ctx.run([fusedAttentionForward(ctx, q, k, v, o, lse, shape)]);
    const dkvTilings = tiled('dkv');
    for (const { label, tl } of tiled('dq')) {
      const dkv = dkvTilings.find((x) => x.label === label)?.tl ?? attentionTiling(ctx, 'dkv', s.hd) ?? undefined;
      const list = fusedAttentionBackward(ctx, { q, k, v, o, lse, dout }, { dq, dk, dv, dsum }, shape, { dq: tl, dkv });
      const r = await timed('bwd', `fused ${label}`, list, 2 * rowBytes);
      if (label === 'auto') {
        ctx.run(fusedAttentionBackward(ctx, { q, k, v, o, lse, dout }, { dq, dk, dv, dsum }, shape));
        r.maxRelDiffToUnfused = await maxRelDiff(ctx, [
          [dq, ref[1]],
          [dk, ref[2]],
          [dv, ref[3]],
        ]);
      }
    }
  } catch (e) {
    out.push({ name, shape: s, pass: 'fwd', method: 'setup', error: (e as Error).message });
  } finally {
    for (const x of made) x.buffer.destroy();
  }
  return out;
}
