// Attention pieces around the batched matmuls: fused-QKV split with NeoX rotary,
// causal softmax (in place) and head merge/split, each with its backward.
import qkvFwdSrc from '../../../shaders/qkv_split_fwd.wgsl?raw';
import qkvBwdSrc from '../../../shaders/qkv_split_bwd.wgsl?raw';
import softmaxFwdSrc from '../../../shaders/causal_softmax_fwd.wgsl?raw';
import softmaxBwdSrc from '../../../shaders/causal_softmax_bwd.wgsl?raw';
import softmaxFwdVec4Src from '../../../shaders/causal_softmax_fwd_vec4.wgsl?raw';
import softmaxBwdVec4Src from '../../../shaders/causal_softmax_bwd_vec4.wgsl?raw';
import mergeSrc from '../../../shaders/merge_heads.wgsl?raw';
import splitSrc from '../../../shaders/split_heads.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { type RotarySpec, rotaryTable } from './rotary';
import { expectFinite, expectLength, expectNoAlias, expectPositiveInts } from './validate';
import { linearWorkgroup, rowWorkgroup } from './workgroup';

export type { RotarySpec } from './rotary';

// one cos/sin table per (device, T, dims, base), shared by every layer's dispatches
const ropeTables = new WeakMap<GpuContext, Map<string, GpuTensor>>();

function ropeBinding(
  ctx: GpuContext,
  kernel: string,
  T: number,
  hd: number,
  rotary: RotarySpec | null,
): { rope: GpuTensor; rot: number } {
  if (rotary) {
    const { dims, base } = rotary;
    if (!Number.isInteger(dims) || dims <= 0 || dims % 2 !== 0 || dims > hd)
      throw new Error(`${kernel}: rotary.dims must be an even integer in [2, hd=${hd}], got ${dims}`);
    expectFinite(kernel, { 'rotary.base': base });
  }
  const key = rotary ? `${T}|${rotary.dims}|${rotary.base}` : 'none';
  let cache = ropeTables.get(ctx);
  if (!cache) ropeTables.set(ctx, (cache = new Map()));
  let rope = cache.get(key);
  if (!rope) {
    rope = rotary
      ? ctx.tensorFrom(rotaryTable(T, rotary), [2, T, rotary.dims / 2], 'rope')
      : ctx.tensor([1], 'rope.none');
    cache.set(key, rope);
  }
  return { rope, rot: rotary?.dims ?? 0 };
}

/** qkv: (B*T, 3C) in NeoX per-head [q|k|v] layout (B, T, H, 3, hd) → q, k, v: (B, H, T, hd), rotary on q and k */
export function qkvSplitForward(
  ctx: GpuContext,
  qkv: GpuTensor,
  q: GpuTensor,
  k: GpuTensor,
  v: GpuTensor,
  B: number,
  T: number,
  H: number,
  hd: number,
  rotary: RotarySpec | null,
): Dispatch {
  const kn = 'qkvSplitForward';
  expectPositiveInts(kn, { B, T, H, hd });
  const n = B * H * T * hd;
  expectLength(kn, 'qkv', qkv, 3 * n);
  for (const [name, t] of [
    ['q', q],
    ['k', k],
    ['v', v],
  ] as const)
    expectLength(kn, name, t, n);
  const { rope, rot } = ropeBinding(ctx, kn, T, hd, rotary);
  expectNoAlias(kn, { q, k, v }, { qkv });
  const WG = linearWorkgroup(ctx);
  const p = ctx.pipeline('qkv_split_fwd', qkvFwdSrc, { WG });
  return ctx.bind(
    kn,
    p,
    [
      qkv,
      rope,
      q,
      k,
      v,
      uniforms([
        ['u32', B],
        ['u32', T],
        ['u32', H],
        ['u32', hd],
        ['u32', rot],
      ]),
    ],
    grid1d(Math.ceil(n / WG)),
  );
}

/** dq, dk, dv: (B, H, T, hd) → dqkv: (B*T, 3C) overwritten, rotary transposed */
export function qkvSplitBackward(
  ctx: GpuContext,
  dq: GpuTensor,
  dk: GpuTensor,
  dv: GpuTensor,
  dqkv: GpuTensor,
  B: number,
  T: number,
  H: number,
  hd: number,
  rotary: RotarySpec | null,
): Dispatch {
  const kn = 'qkvSplitBackward';
  expectPositiveInts(kn, { B, T, H, hd });
  const n = B * H * T * hd;
  expectLength(kn, 'dqkv', dqkv, 3 * n);
  for (const [name, t] of [
    ['dq', dq],
    ['dk', dk],
    ['dv', dv],
  ] as const)
    expectLength(kn, name, t, n);
  const { rope, rot } = ropeBinding(ctx, kn, T, hd, rotary);
  expectNoAlias(kn, { dqkv }, { dq, dk, dv });
  const WG = linearWorkgroup(ctx);
  const p = ctx.pipeline('qkv_split_bwd', qkvBwdSrc, { WG });
  return ctx.bind(
    kn,
    p,
    [
      dq,
      dk,
      dv,
      rope,
      dqkv,
      uniforms([
        ['u32', B],
        ['u32', T],
        ['u32', H],
        ['u32', hd],
        ['u32', rot],
      ]),
    ],
    grid1d(Math.ceil((3 * n) / WG)),
  );
}

/** vec4 entries each invocation of the register-held softmax rows keeps (causal_softmax_*_vec4.wgsl) */
const ROW_VEC4_PER_INVOCATION = 4;

/** The workgroup size of the softmax kernels that hold a whole row in registers (one read of it,
 *  vec4 loads), or null where T does not allow them (T % 4 ≠ 0, or a row longer than 16 entries
 *  per invocation of the largest workgroup): those rows take the looping kernels. */
export function registerRowWorkgroup(ctx: GpuContext, T: number): number | null {
  const max = linearWorkgroup(ctx);
  if (T % 4 !== 0 || T > 4 * ROW_VEC4_PER_INVOCATION * max) return null;
  let wg = 32;
  while (wg * 4 * ROW_VEC4_PER_INVOCATION < T) wg *= 2;
  return Math.min(wg, max);
}

/** att: (BH, T, T) in place, scores → causal probs of softmax(scale·scores) */
export function causalSoftmaxForward(
  ctx: GpuContext,
  att: GpuTensor,
  BH: number,
  T: number,
  scale: number,
  /** (BH·T): each row's log Σ exp(scale · score), for the epilogue 'probsFromLse' of matmul() */
  lse?: GpuTensor,
): Dispatch {
  const kn = 'causalSoftmaxForward';
  expectPositiveInts(kn, { BH, T });
  expectFinite(kn, { scale });
  expectLength(kn, 'att', att, BH * T * T);
  if (lse) {
    expectLength(kn, 'lse', lse, BH * T);
    expectNoAlias(kn, { lse }, { att });
  }
  const inRegisters = registerRowWorkgroup(ctx, T);
  const WG = inRegisters ?? rowWorkgroup(ctx, T);
  const p = inRegisters
    ? ctx.pipeline('causal_softmax_fwd_vec4', softmaxFwdVec4Src, { WG, WRITE_LSE: lse ? 1 : 0 })
    : ctx.pipeline('causal_softmax_fwd', softmaxFwdSrc, { WG, WRITE_LSE: lse ? 1 : 0 });
  const params = uniforms([
    ['u32', BH * T],
    ['u32', T],
    ['f32', scale],
  ]);
  return ctx.bind(kn, p, [att, params, lse ?? noLse(ctx)], grid1d(BH * T));
}

const lsePlaceholders = new WeakMap<GpuContext, GpuTensor>();

function noLse(ctx: GpuContext): GpuTensor {
  let t = lsePlaceholders.get(ctx);
  if (!t) lsePlaceholders.set(ctx, (t = ctx.tensor([4], 'causalSoftmax.noLse')));
  return t;
}

/** att: (BH, T, T) probs; datt: (BH, T, T) in place, dprobs → dscores */
export function causalSoftmaxBackward(
  ctx: GpuContext,
  att: GpuTensor,
  datt: GpuTensor,
  BH: number,
  T: number,
  scale: number,
): Dispatch {
  const kn = 'causalSoftmaxBackward';
  expectPositiveInts(kn, { BH, T });
  expectFinite(kn, { scale });
  for (const [name, t] of [
    ['att', att],
    ['datt', datt],
  ] as const)
    expectLength(kn, name, t, BH * T * T);
  expectNoAlias(kn, { datt }, { att });
  const inRegisters = registerRowWorkgroup(ctx, T);
  const WG = inRegisters ?? rowWorkgroup(ctx, T);
  const p = inRegisters
    ? ctx.pipeline('causal_softmax_bwd_vec4', softmaxBwdVec4Src, { WG })
    : ctx.pipeline('causal_softmax_bwd', softmaxBwdSrc, { WG });
  return ctx.bind(
    kn,
    p,
    [
      att,
      datt,
      uniforms([
        ['u32', BH * T],
        ['u32', T],
        ['f32', scale],
      ]),
    ],
    grid1d(BH * T),
  );
}

/** one element per (B, H, T, hd) moved between the head-major and row-major layouts */
function heads(
  ctx: GpuContext,
  kn: string,
  label: string,
  code: string,
  [srcName, src]: [string, GpuTensor],
  [dstName, dst]: [string, GpuTensor],
  B: number,
  T: number,
  H: number,
  hd: number,
): Dispatch {
  expectPositiveInts(kn, { B, T, H, hd });
  const n = B * T * H * hd;
  expectLength(kn, srcName, src, n);
  expectLength(kn, dstName, dst, n);
  expectNoAlias(kn, { [dstName]: dst }, { [srcName]: src });
  const WG = linearWorkgroup(ctx);
  return ctx.bind(
    kn,
    ctx.pipeline(label, code, { WG }),
    [
      src,
      dst,
      uniforms([
        ['u32', B],
        ['u32', T],
        ['u32', H],
        ['u32', hd],
      ]),
    ],
    grid1d(Math.ceil(n / WG)),
  );
}

/** y: (B, H, T, hd) → out: (B*T, H*hd) overwritten */
export function mergeHeads(
  ctx: GpuContext,
  y: GpuTensor,
  out: GpuTensor,
  B: number,
  T: number,
  H: number,
  hd: number,
): Dispatch {
  return heads(ctx, 'mergeHeads', 'merge_heads', mergeSrc, ['y', y], ['out', out], B, T, H, hd);
}

/** dout: (B*T, H*hd) → dy: (B, H, T, hd) overwritten */
export function splitHeads(
  ctx: GpuContext,
  dout: GpuTensor,
  dy: GpuTensor,
  B: number,
  T: number,
  H: number,
  hd: number,
): Dispatch {
  return heads(ctx, 'splitHeads', 'split_heads', splitSrc, ['dout', dout], ['dy', dy], B, T, H, hd);
}
