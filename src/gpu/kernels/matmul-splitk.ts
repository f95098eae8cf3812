// Split-K: the splits' partial products go to a workspace (S, M, N) shared by every split-K
// matmul of a context (dispatches run in order, so one at a time uses it), then one pass adds
// them in split order (deterministic) and applies alpha, beta and the epilogue.
import reduceCode from '../../../shaders/matmul_splitk_reduce.wgsl?raw';
import batchedReduceCode from '../../../shaders/splitk_reduce_batched.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { linearWorkgroup } from './workgroup';

const workspaces = new WeakMap<GpuContext, GpuTensor>();

/** A view of `length` elements of the context's split-K workspace (grown when too small). */
export function splitKWorkspace(ctx: GpuContext, length: number): GpuTensor {
  let ws = workspaces.get(ctx);
  if (!ws || ws.length < length) workspaces.set(ctx, (ws = ctx.tensor([length], 'matmul.splitK')));
  return { ...ws, length, shape: [length] };
}

/** c (M, N) = epilogue(alpha · Σ_z partial[z] + beta · c) */
export function splitKReduce(
  ctx: GpuContext,
  partial: GpuTensor,
  c: GpuTensor,
  s: { M: number; N: number; alpha: number; beta: number },
  splits: number,
  ext: { code: number; bias: GpuTensor; aux: GpuTensor },
): Dispatch {
  const quads = (s.M * s.N) / 4;
  const WG = linearWorkgroup(ctx);
  const params = uniforms([
    ['u32', quads],
    ['u32', s.N],
    ['u32', splits],
    ['f32', s.alpha],
    ['f32', s.beta],
  ]);
  const pipeline = ctx.pipeline('matmul_splitk_reduce', reduceCode, { WG, EPILOGUE: ext.code });
  return ctx.bind(
    'matmul_splitk_reduce',
    pipeline,
    [partial, c, params, ext.bias, ext.aux],
    grid1d(Math.ceil(quads / WG)),
  );
}

/** c[b] (M, N) at b·strideC = alpha · Σ_s partial[b·splits + s] + beta · c[b], b < batch (no epilogue). */
export function splitKReduceBatched(
  ctx: GpuContext,
  partial: GpuTensor,
  c: GpuTensor,
  s: { M: number; N: number; batch: number; strideC: number; alpha: number; beta: number },
  splits: number,
): Dispatch {
  const quads = (s.M * s.N) / 4;
  const WG = linearWorkgroup(ctx);
  const params = uniforms([
    ['u32', quads],
    ['u32', s.batch],
    ['u32', splits],
    ['u32', s.strideC / 4],
    ['f32', s.alpha],
    ['f32', s.beta],
  ]);
  const pipeline = ctx.pipeline('splitk_reduce_batched', batchedReduceCode, { WG });
  return ctx.bind('splitk_reduce_batched', pipeline, [partial, c, params], grid1d(Math.ceil((quads * s.batch) / WG)));
}
