// Optimizer kernels over the flat parameter/gradient buffers: the squared global
// gradient norm (two deterministic passes) and the AdamW step that clips by it.
import partialSrc from '../../../shaders/grad_sq_norm_partial.wgsl?raw';
import finalSrc from '../../../shaders/grad_sq_norm_final.wgsl?raw';
import adamwSrc from '../../../shaders/adamw.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d, MAX_WORKGROUPS_PER_DIM } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectFinite, expectLength, expectNoAlias } from './validate';
import { linearWorkgroup } from './workgroup';

export interface AdamHyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 0 = no clipping */
  maxGradNorm: number;
}

/** Number of pass-1 partial sums for P gradients (the length of gradSquaredNorm's `partials`). */
export function numPartials(ctx: GpuContext, P: number): number {
  const WG = linearWorkgroup(ctx);
  return Math.max(1, Math.min(Math.ceil(P / WG), 4 * WG, MAX_WORKGROUPS_PER_DIM));
}

/** Element range [start, end) of a flat buffer. */
export interface Range {
  start: number;
  end: number;
}

/** out[0] = Σ grads² over the elements outside `skip` (at most two ranges).
 *  grads: (P); partials: (numPartials(P)) scratch; out: (1). Two dispatches. */
export function gradSquaredNorm(
  ctx: GpuContext,
  grads: GpuTensor,
  partials: GpuTensor,
  out: GpuTensor,
  skip: readonly Range[] = [],
): Dispatch[] {
  const k = 'gradSquaredNorm';
  const P = grads.length;
  if (P >= 2 ** 32 - 2 ** 24) throw new Error(`${k}: ${P} gradients exceed the u32 index range`);
  const NP = numPartials(ctx, P);
  expectLength(k, 'partials', partials, NP);
  expectLength(k, 'out', out, 1);
  expectNoAlias(k, { partials }, { grads });
  expectNoAlias(k, { out }, { partials });
  if (skip.length > 2) throw new Error(`${k}: at most 2 skip ranges, got ${skip.length}`);
  for (const r of skip) {
    if (!(Number.isInteger(r.start) && Number.isInteger(r.end) && 0 <= r.start && r.start <= r.end && r.end <= P))
      throw new Error(`${k}: skip range [${r.start}, ${r.end}) is not inside [0, ${P}]`);
  }
  const [s0, s1] = [skip[0] ?? { start: 0, end: 0 }, skip[1] ?? { start: 0, end: 0 }];
  const WG = linearWorkgroup(ctx);
  const u = uniforms([
    ['u32', P],
    ['u32', NP],
    ['u32', s0.start],
    ['u32', s0.end],
    ['u32', s1.start],
    ['u32', s1.end],
  ]);
  return [
    ctx.bind(
      `${k}.partial`,
      ctx.pipeline('grad_sq_norm_partial', partialSrc, { WG }),
      [grads, partials, u],
      [NP, 1, 1],
    ),
    ctx.bind(
      `${k}.final`,
      ctx.pipeline('grad_sq_norm_final', finalSrc, { WG }),
      [partials, out, uniforms([['u32', NP]])],
      [1, 1, 1],
    ),
  ];
}

/**
 * One AdamW step over flat buffers, clipping by the global norm sqrt(gradSqNorm[0]).
 * params, grads, m, v: (P); elements [0, decayCount) get decoupled weight decay;
 * stepScalars: f32 (4) [lr, 1-β1^t, 1-β2^t, unused], written by the trainer each step.
 */
export function adamw(
  ctx: GpuContext,
  params: GpuTensor,
  grads: GpuTensor,
  m: GpuTensor,
  v: GpuTensor,
  decayCount: number,
  stepScalars: GpuTensor,
  gradSqNorm: GpuTensor,
  hyper: AdamHyper,
): Dispatch {
  const k = 'adamw';
  const P = params.length;
  for (const [name, t] of [
    ['grads', grads],
    ['m', m],
    ['v', v],
  ] as const)
    expectLength(k, name, t, P);
  expectLength(k, 'stepScalars', stepScalars, 4);
  expectLength(k, 'gradSqNorm', gradSqNorm, 1);
  if (!Number.isInteger(decayCount) || decayCount < 0 || decayCount > P)
    throw new Error(`adamw: decayCount must be an integer in [0, ${P}], got ${decayCount}`);
  expectFinite(k, {
    beta1: hyper.beta1,
    beta2: hyper.beta2,
    eps: hyper.eps,
    weightDecay: hyper.weightDecay,
    maxGradNorm: hyper.maxGradNorm,
  });
  if (!(hyper.beta1 >= 0 && hyper.beta1 < 1 && hyper.beta2 >= 0 && hyper.beta2 < 1))
    throw new Error(`adamw: betas must lie in [0, 1), got ${hyper.beta1}, ${hyper.beta2}`);
  if (hyper.maxGradNorm < 0)
    throw new Error(`adamw: maxGradNorm must be ≥ 0 (0 = no clipping), got ${hyper.maxGradNorm}`);
  expectNoAlias(k, { params, m, v }, { grads, stepScalars, gradSqNorm });
  const WG = linearWorkgroup(ctx);
  const u = uniforms([
    ['u32', P],
    ['u32', decayCount],
    ['f32', hyper.beta1],
    ['f32', hyper.beta2],
    ['f32', hyper.eps],
    ['f32', hyper.weightDecay],
    ['f32', hyper.maxGradNorm],
  ]);
  return ctx.bind(
    k,
    ctx.pipeline('adamw', adamwSrc, { WG }),
    [params, grads, m, v, stepScalars, gradSqNorm, u],
    grid1d(Math.ceil(P / WG)),
  );
}
