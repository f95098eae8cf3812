// Mixed precision's 16-bit activations (parallel/half-storage.ts): a transformer layer's kernels
// compute in ONE set of f32 buffers shared by every layer and micro-batch (the work layer), and
// what its backward reads is kept per slot and layer packed two values to a u32 (fp16 / bf16):
// packed right after the layer's forward, unpacked into the work layer just before its backward.
// Tensors no backward reads (qkv, attnOut, mlpOut) exist only in the work layer. The per-row
// statistics (norm means and rstds, the attention's log-sum-exp) stay f32 per layer, and so does
// the stage's input (layer 0's x, which the pipeline receives into). The forward reads f32 values
// as before, so the loss is that of f32 activations; the backward sees them rounded.
// With activation recompute a slot keeps only each chunk's input: chunk 0's in f32 (the stage's
// input), the others packed; they are computed into two shared f32 buffers (chunks 1, 3, … and
// 2, 4, …) and unpacked there before the chunk is recomputed.
// Legend: B batch, T sequence, C hidden, N = B*T, n this rank's token rows, a, f, h: this TP
// rank's attention width, MLP width and heads (activations.ts).
import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import { packedWords, packHalf, unpackHalf } from '../gpu/kernels/half-pack';
import type { GpuTensor } from '../gpu/tensor';
import type { HalfFormat } from '../train/precision';
import { type Alloc, type Fusion, type LayerActs, layerActs, type LocalDims, type StashedTensor } from './activations';
import type { ModelSpec } from './spec';

/** The shared f32 buffers: the work layer and the residual stream between layers (ping-pong). */
export interface HalfWork {
  /** every LayerActs tensor but x and the per-row statistics (never bound there) */
  layer: LayerActs;
  /** (n, C) the input of layers 1, 3, 5, … and of layers 2, 4, … (null when the stage has none) */
  xOdd: GpuTensor | null;
  xEven: GpuTensor | null;
}

// a field of the work layer that each slot's layer replaces with its own: never bound
const PER_LAYER: GpuTensor = {
  buffer: null as unknown as GPUBuffer,
  offset: 0,
  length: 0,
  shape: [0],
  name: 'per-layer',
};

export function allocHalfWork(
  ctx: GpuContext,
  s: ModelSpec,
  d: LocalDims,
  B: number,
  numLayers: number,
  fused: Fusion,
  n: number,
): HalfWork {
  const t: Alloc = (name, ...shape) => ctx.tensor(shape, `half.${name}`);
  return {
    layer: layerActs(t, s, d, B, 'work.', PER_LAYER, fused, n, () => PER_LAYER),
    xOdd: numLayers >= 2 ? t('x1', n, s.C) : null,
    xEven: numLayers >= 3 ? t('x2', n, s.C) : null,
  };
}

/** The tensors of layer j the backward reads (besides the statistics), by LayerActs key. */
export function stashedKeys(s: ModelSpec, w: LayerActs, j: number): (keyof LayerActs)[] {
  const keys: (keyof LayerActs)[] = [
    ...(j > 0 ? (['x'] as const) : []),
    'ln1',
    'q',
    'k',
    'v',
    ...(w.att ? (['att'] as const) : []),
    ...(w.attDrop ? (['attDrop'] as const) : []),
    ...(w.lse ? (['yh'] as const) : []), // the fused attention backward's output (kept on every log-sum-exp path)
    'y',
    ...(s.parallelResidual ? [] : (['xMid'] as const)),
    'ln2',
    'h',
    'g',
  ];
  return keys;
}

/** Layer j of one slot: the work layer with its own input (layer 0: `x0`, the slot's f32 input),
 *  statistics and packed copies (allocated with `t`, the slot's allocator). */
export function halfLayer(
  t: Alloc,
  s: ModelSpec,
  d: LocalDims,
  B: number,
  work: HalfWork,
  j: number,
  x0: GpuTensor,
  n: number,
): LayerActs {
  const w = work.layer;
  const x = j === 0 ? x0 : j % 2 === 1 ? work.xOdd : work.xEven;
  if (!x) throw new Error(`half activations: no residual buffer for layer ${j}`);
  const L = { ...w, x };
  const stash: StashedTensor[] = stashedKeys(s, w, j).map((key) => {
    const tensor = L[key] as GpuTensor;
    return { work: tensor, packed: t(`L${j}.${key}.half`, packedWords(tensor.length)) };
  });
  const p = `L${j}.`;
  return {
    ...L,
    ln1Mean: t(`${p}ln1Mean`, n),
    ln1Rstd: t(`${p}ln1Rstd`, n),
    ln2Mean: t(`${p}ln2Mean`, n),
    ln2Rstd: t(`${p}ln2Rstd`, n),
    lse: w.lse ? t(`${p}lse`, B * d.h, s.T) : null,
    stash,
  };
}

/** After the layer's forward: its stashed tensors into their packed copies. */
export function packStash(ctx: GpuContext, stash: readonly StashedTensor[], format: HalfFormat): Dispatch[] {
  return stash.map((e) => packHalf(ctx, e.work, e.packed, format));
}

/** Before the layer's backward: the packed copies back into the work layer. */
export function unpackStash(ctx: GpuContext, stash: readonly StashedTensor[], format: HalfFormat): Dispatch[] {
  return stash.map((e) => unpackHalf(ctx, e.packed, e.work, format));
}

/** With activation recompute: the shared f32 inputs of chunks 1, 3, … and of chunks 2, 4, … */
export interface HalfChunkInputs {
  odd: GpuTensor | null;
  even: GpuTensor | null;
}

export function allocHalfChunkInputs(ctx: GpuContext, s: ModelSpec, chunks: number, n: number): HalfChunkInputs {
  const t: Alloc = (name, ...shape) => ctx.tensor(shape, `half.${name}`);
  return { odd: chunks >= 2 ? t('chunkInput1', n, s.C) : null, even: chunks >= 3 ? t('chunkInput2', n, s.C) : null };
}

/** The first layer of recompute chunk c of one slot (layer l): the shared scratch layer with the
 *  chunk's input, the slot's own f32 for chunk 0, else a shared buffer and the slot's packed copy. */
export function halfChunkFirstLayer(
  t: Alloc,
  scratch: LayerActs,
  c: number,
  l: number,
  inputs: HalfChunkInputs,
  n: number,
  C: number,
): LayerActs {
  if (c === 0) return { ...scratch, x: t(`L${l}.x`, n, C) };
  const x = c % 2 === 1 ? inputs.odd : inputs.even;
  if (!x) throw new Error(`half activations: no input buffer for recompute chunk ${c}`);
  return { ...scratch, x, stash: [{ work: x, packed: t(`L${l}.x.half`, packedWords(n * C)) }] };
}
