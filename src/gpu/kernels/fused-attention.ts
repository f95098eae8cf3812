// Fused causal attention on per-head tensors (B, h, T, hd), without the (B·h, T, T) scores:
// the forward keeps each row's log-sum-exp; the backward recomputes the probabilities block by
// block (dq pass, then dk/dv pass). Tiles come from the device limits (attentionTiling).
import dkvSrc from '../../../shaders/attention_bwd_dkv.wgsl?raw';
import dqSrc from '../../../shaders/attention_bwd_dq.wgsl?raw';
import fwdSrc from '../../../shaders/attention_fwd.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import type { Dispatch } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectFinite, expectLength, expectNoAlias, expectPositiveInts } from './validate';

export type AttentionPass = 'fwd' | 'dq' | 'dkv';

/** TX × TY invocations, each 4 own rows × 4 other rows; HQ: the head dim in vec4, padded to TX·OQ. */
export interface AttentionTiling {
  TX: number;
  TY: number;
  HQ: number;
}

/** Workgroup shapes tried in order (largest first); bench/README.md has the H200 sweep. */
export const ATTENTION_SHAPES: ReadonlyArray<readonly [number, number]> = [
  [8, 16],
  [16, 8],
  [8, 8],
  [8, 4],
  [4, 8],
  [4, 4],
];

/** vec4 slots of workgroup memory a pass needs (as laid out in its shader). */
export function attentionSharedQuads(pass: AttentionPass, { TX, TY, HQ }: AttentionTiling): number {
  const own = 4 * TY,
    other = 4 * TX,
    rs = HQ + 1;
  if (pass === 'fwd') return own * rs + 2 * other * rs + other * TY + (own * TX) / 4;
  if (pass === 'dq') return 2 * own * rs + 2 * other * rs + other * TY + 2 * TY;
  return 2 * own * rs + 2 * other * rs + 2 * other * TY;
}

/** Why a tiling cannot run a pass on this device, or null. */
export function attentionTilingProblem(ctx: GpuContext, pass: AttentionPass, t: AttentionTiling): string | null {
  const oq = t.HQ / t.TX;
  if (![1, 2, 4].includes(oq)) return `HQ ${t.HQ} is not 1, 2 or 4 times TX ${t.TX}`;
  const lim = ctx.limits;
  if (t.TX * t.TY > lim.maxComputeInvocationsPerWorkgroup) return `${t.TX * t.TY} invocations over the limit`;
  if (t.TX > lim.maxComputeWorkgroupSizeX || t.TY > lim.maxComputeWorkgroupSizeY)
    return 'workgroup over the size limits';
  const bytes = attentionSharedQuads(pass, t) * 16;
  if (bytes > lim.maxComputeWorkgroupStorageSize)
    return `${bytes} B workgroup memory > maxComputeWorkgroupStorageSize ${lim.maxComputeWorkgroupStorageSize}`;
  return null;
}

/** The tiling of [TX, TY] for head dim hd: HQ = TX·OQ with the smallest OQ in {1, 2, 4} covering hd/4. */
export function tilingFor(hd: number, [TX, TY]: readonly [number, number]): AttentionTiling | null {
  const oq = [1, 2, 4].find((o) => TX * o >= Math.ceil(hd / 4));
  return oq ? { TX, TY, HQ: TX * oq } : null;
}

/** The first workgroup shape of ATTENTION_SHAPES that runs `pass` on this device, or null. */
export function attentionTiling(ctx: GpuContext, pass: AttentionPass, hd: number): AttentionTiling | null {
  for (const shape of ATTENTION_SHAPES) {
    const t = tilingFor(hd, shape);
    if (t && attentionTilingProblem(ctx, pass, t) === null) return t;
  }
  return null;
}

/** Whether the fused kernels run head dim hd here (hd a multiple of 4, tiles that fit). */
export function fusedAttentionSupported(ctx: GpuContext, hd: number): boolean {
  return hd % 4 === 0 && (['fwd', 'dq', 'dkv'] as const).every((pass) => attentionTiling(ctx, pass, hd) !== null);
}

interface Shape {
  BH: number;
  T: number;
  hd: number;
  scale: number;
}

function checkShape(kernel: string, s: Shape, perHead: Record<string, GpuTensor>, rows: Record<string, GpuTensor>) {
  expectPositiveInts(kernel, { BH: s.BH, T: s.T, hd: s.hd });
  expectFinite(kernel, { scale: s.scale });
  if (s.hd % 4) throw new Error(`${kernel}: head dim ${s.hd} is not a multiple of 4`);
  for (const [name, t] of Object.entries(perHead)) expectLength(kernel, name, t, s.BH * s.T * s.hd);
  for (const [name, t] of Object.entries(rows)) expectLength(kernel, name, t, s.BH * s.T);
}

function pipelineFor(ctx: GpuContext, pass: AttentionPass, s: Shape, tiling?: AttentionTiling) {
  const t = tiling ?? attentionTiling(ctx, pass, s.hd);
  if (!t) throw new Error(`fused attention: no ${pass} tiling fits this device for head dim ${s.hd}`);
  const problem = attentionTilingProblem(ctx, pass, t);
  if (problem) throw new Error(`fused attention ${pass}: ${problem}`);
  if (t.HQ * 4 < s.hd) throw new Error(`fused attention ${pass}: HQ ${t.HQ} does not cover head dim ${s.hd}`);
  const src = pass === 'fwd' ? fwdSrc : pass === 'dq' ? dqSrc : dkvSrc;
  const label = `attention_${pass === 'fwd' ? 'fwd' : `bwd_${pass}`}`;
  return {
    label,
    pipeline: ctx.pipeline(label, src, { TX: t.TX, TY: t.TY, HQ: t.HQ }),
    blocks: Math.ceil(s.T / (4 * t.TY)),
  };
}

const params = (s: Shape) =>
  uniforms([
    ['u32', s.T],
    ['u32', s.hd / 4],
    ['f32', s.scale],
  ]);

/** o = causal softmax(scale · q kᵀ) v, lse = its row log-sum-exp. q, k, v, o: (BH, T, hd)  lse: (BH, T) */
export function fusedAttentionForward(
  ctx: GpuContext,
  q: GpuTensor,
  k: GpuTensor,
  v: GpuTensor,
  o: GpuTensor,
  lse: GpuTensor,
  s: Shape,
  tiling?: AttentionTiling,
): Dispatch {
  const kn = 'fusedAttentionForward';
  checkShape(kn, s, { q, k, v, o }, { lse });
  expectNoAlias(kn, { o, lse }, { q, k, v });
  const { label, pipeline, blocks } = pipelineFor(ctx, 'fwd', s, tiling);
  return ctx.bind(label, pipeline, [q, k, v, o, lse, params(s)], [blocks, s.BH, 1]);
}

/** dq, dk, dv of fusedAttentionForward given dout = dL/do; dsum: (BH, T) scratch (rowsum(dout ∘ o)). */
export function fusedAttentionBackward(
  ctx: GpuContext,
  t: { q: GpuTensor; k: GpuTensor; v: GpuTensor; o: GpuTensor; lse: GpuTensor; dout: GpuTensor },
  g: { dq: GpuTensor; dk: GpuTensor; dv: GpuTensor; dsum: GpuTensor },
  s: Shape,
  tilings: { dq?: AttentionTiling; dkv?: AttentionTiling } = {},
): Dispatch[] {
  const kn = 'fusedAttentionBackward';
  const { q, k, v, o, lse, dout } = t;
  const { dq, dk, dv, dsum } = g;
  checkShape(kn, s, { q, k, v, o, dout, dq, dk, dv }, { lse, dsum });
  expectNoAlias(kn, { dq, dk, dv, dsum }, { q, k, v, o, dout, lse });
  const a = pipelineFor(ctx, 'dq', s, tilings.dq);
  const b = pipelineFor(ctx, 'dkv', s, tilings.dkv);
  return [
    ctx.bind(a.label, a.pipeline, [q, k, v, o, dout, lse, dq, dsum, params(s)], [a.blocks, s.BH, 1]),
    ctx.bind(b.label, b.pipeline, [q, k, v, dout, lse, dsum, dk, dv, params(s)], [b.blocks, s.BH, 1]),
  ];
}
