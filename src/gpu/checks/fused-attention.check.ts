// The fused causal attention kernels against the f64 definition (src/reference/fused-attention.ts):
// sequence lengths that are not whole blocks, head dims that are padded, every tiling that fits.
import type { GpuContext } from '../context';
import {
  ATTENTION_SHAPES,
  type AttentionPass,
  type AttentionTiling,
  attentionTiling,
  attentionTilingProblem,
  fusedAttentionBackward,
  fusedAttentionForward,
  tilingFor,
} from '../kernels/fused-attention';
import { causalAttentionBackwardRef, causalAttentionRef } from '../../reference/fused-attention';
import { randn } from '../../util/rng';
import { noGpuErrors } from './gpu-errors';
import { type CheckResult, compare, type KernelCheck, sweepCases } from './harness';

interface Case {
  BH: number;
  T: number;
  hd: number;
}

const CASES: Case[] = [
  { BH: 3, T: 37, hd: 8 },
  { BH: 2, T: 64, hd: 64 },
  { BH: 1, T: 70, hd: 12 },
  { BH: 2, T: 5, hd: 16 },
];

type Tilings = Partial<Record<AttentionPass, AttentionTiling>>;

async function runCase(ctx: GpuContext, c: Case, tilings: Tilings, tag: string, seed: number): Promise<CheckResult[]> {
  const { BH, T, hd } = c;
  const n = BH * T * hd,
    scale = 1 / Math.sqrt(hd);
  const name = `fused_attention[${BH},${T},${hd}]${tag}`;
  const [qa, ka, va, ga] = [0, 1, 2, 3].map((i) => randn(n, seed + i, i === 0 ? 2 : 1));
  const [q, k, v, dout] = [qa, ka, va, ga].map((a) => ctx.tensorFrom(a));
  const nan = (len: number) => ctx.tensorFrom(new Float32Array(len).fill(Number.NaN)); // must be overwritten
  const [o, dq, dk, dv] = [nan(n), nan(n), nan(n), nan(n)];
  const [lse, dsum] = [nan(BH * T), nan(BH * T)];
  const s = { BH, T, hd, scale };
  const errors = await noGpuErrors(ctx, `${name}.gpuErrors`, () =>
    ctx.run([
      fusedAttentionForward(ctx, q, k, v, o, lse, s, tilings.fwd),
      ...fusedAttentionBackward(ctx, { q, k, v, o, lse, dout }, { dq, dk, dv, dsum }, s, tilings),
    ]),
  );
  const f = causalAttentionRef(qa, ka, va, BH, T, hd, scale);
  const b = causalAttentionBackwardRef(qa, ka, va, ga, BH, T, hd, scale);
  const out = [
    errors,
    compare(`${name}.o`, await ctx.read(o), f.o, 1e-5),
    compare(`${name}.lse`, await ctx.read(lse), f.lse, 1e-6),
    compare(`${name}.dq`, await ctx.read(dq), b.dq, 1e-5),
    compare(`${name}.dk`, await ctx.read(dk), b.dk, 1e-5),
    compare(`${name}.dv`, await ctx.read(dv), b.dv, 1e-5),
  ];
  for (const t of [q, k, v, dout, o, dq, dk, dv, lse, dsum]) t.buffer.destroy();
  return out;
}

export const fusedAttentionCheck: KernelCheck = {
  name: 'fused_attention',
  async run(ctx, sweep) {
    const out: CheckResult[] = [];
    let seed = 900;
    for (const c of CASES) out.push(...(await runCase(ctx, c, {}, '', (seed += 10))));
    // every other workgroup shape that fits, per pass, on the first two cases (one: 'one-case')
    for (const shape of ATTENTION_SHAPES) {
      for (const c of sweepCases(CASES.slice(0, 2), sweep)) {
        const tilings: Tilings = {};
        for (const pass of ['fwd', 'dq', 'dkv'] as const) {
          const t = tilingFor(c.hd, shape);
          const auto = attentionTiling(ctx, pass, c.hd);
          const same = t && auto && t.TX === auto.TX && t.TY === auto.TY;
          if (t && !same && attentionTilingProblem(ctx, pass, t) === null) tilings[pass] = t;
        }
        if (Object.keys(tilings).length === 0) continue;
        out.push(...(await runCase(ctx, c, tilings, ` ${shape[0]}x${shape[1]}`, (seed += 10))));
      }
    }
    return out;
  },
};
