// Softmax cross-entropy over the vocabulary: forward (per-row loss and log-sum-exp)
// and backward (gradient w.r.t. the logits). Targets < 0 are ignored.
import fwdSrc from '../../../shaders/crossentropy_fwd.wgsl?raw';
import bwdSrc from '../../../shaders/crossentropy_bwd.wgsl?raw';
import targetSrc from '../../../shaders/target_logit.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectFinite, expectLength, expectNoAlias, expectPositiveInts } from './validate';
import { linearWorkgroup, rowWorkgroup } from './workgroup';

/** logits: (N, V); targets: i32 (N); losses, lse: (N) written */
export function crossEntropyForward(
  ctx: GpuContext,
  logits: GpuTensor,
  targets: GpuTensor,
  losses: GpuTensor,
  lse: GpuTensor,
  N: number,
  V: number,
): Dispatch {
  const k = 'crossEntropyForward';
  expectPositiveInts(k, { N, V });
  expectLength(k, 'logits', logits, N * V);
  for (const [name, t] of [
    ['targets', targets],
    ['losses', losses],
    ['lse', lse],
  ] as const)
    expectLength(k, name, t, N);
  expectNoAlias(k, { losses, lse }, { logits, targets });
  const WG = rowWorkgroup(ctx, V);
  const p = ctx.pipeline('crossentropy_fwd', fwdSrc, { WG });
  return ctx.bind(
    k,
    p,
    [
      logits,
      targets,
      losses,
      lse,
      uniforms([
        ['u32', N],
        ['u32', V],
      ]),
    ],
    grid1d(N),
  );
}

/** dlogits = scale·(softmax(logits) - onehot(target)), 0 for ignored rows. logits, dlogits: (N, V); targets: i32 (N); lse: (N) */
export function crossEntropyBackward(
  ctx: GpuContext,
  logits: GpuTensor,
  targets: GpuTensor,
  lse: GpuTensor,
  dlogits: GpuTensor,
  N: number,
  V: number,
  scale: number,
): Dispatch {
  const k = 'crossEntropyBackward';
  expectPositiveInts(k, { N, V });
  expectFinite(k, { scale });
  if (N * V >= 2 ** 32) throw new Error(`${k}: N·V = ${N * V} exceeds the u32 index range`);
  for (const [name, t] of [
    ['logits', logits],
    ['dlogits', dlogits],
  ] as const)
    expectLength(k, name, t, N * V);
  for (const [name, t] of [
    ['targets', targets],
    ['lse', lse],
  ] as const)
    expectLength(k, name, t, N);
  expectNoAlias(k, { dlogits }, { logits, targets, lse });
  const WG = linearWorkgroup(ctx);
  const p = ctx.pipeline('crossentropy_bwd', bwdSrc, { WG });
  return ctx.bind(
    k,
    p,
    [
      logits,
      targets,
      lse,
      dlogits,
      uniforms([
        ['u32', N],
        ['u32', V],
        ['f32', scale],
      ]),
    ],
    grid1d(Math.ceil((N * V) / WG)),
  );
}

/** out[row] = logits[row, targets[row]] for targets in [0, V), else 0 (vocab-parallel shards).
 *  logits: (N, V); targets: i32 (N); out: (N) written */
export function targetLogit(
  ctx: GpuContext,
  logits: GpuTensor,
  targets: GpuTensor,
  out: GpuTensor,
  N: number,
  V: number,
): Dispatch {
  const k = 'targetLogit';
  expectPositiveInts(k, { N, V });
  expectLength(k, 'logits', logits, N * V);
  for (const [name, t] of [
    ['targets', targets],
    ['out', out],
  ] as const)
    expectLength(k, name, t, N);
  expectNoAlias(k, { out }, { logits, targets });
  const WG = linearWorkgroup(ctx);
  const p = ctx.pipeline('target_logit', targetSrc, { WG });
  return ctx.bind(
    k,
    p,
    [
      logits,
      targets,
      out,
      uniforms([
        ['u32', N],
        ['u32', V],
      ]),
    ],
    grid1d(Math.ceil(N / WG)),
  );
}
