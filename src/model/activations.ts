// Activation and scratch buffers of one rank's GPT for a micro-batch of B×T tokens.
// Saved per layer for the backward pass; backward scratch is shared across layers.
// Under tensor parallelism the split activations are this rank's part: h = H/tp heads,
// a = h·hd = C/tp attention width, f = F/tp MLP width, v = V/tp vocabulary rows.
// With activation recompute (NeoX checkpoint_activations, chunks of k layers) a slot keeps only each chunk's input;
// the layers' insides live in k scratch layers shared by every slot and are recomputed in
// the backward pass.
// With sequence parallelism (Megatron's, inside the TP group) the LayerNorm, dropout and residual
// tensors hold only this rank's n = B·T/tp token rows (sequence-parallel.ts); three (N, C) buffers
// shared by every layer and slot take what is gathered or summed along the sequence.

import type { GpuContext } from '../gpu/context';
import { fusedAttentionSupported } from '../gpu/kernels/fused-attention';
import { vec4Aligned } from '../gpu/kernels/matmul';
import type { GpuTensor } from '../gpu/tensor';
import { type HalfChunkInputs, type HalfWork, halfChunkFirstLayer, halfLayer } from './half-activations';
import {
  type AttentionBackward,
  chooseAttentionBackward,
  FUSED_ATTENTION_FROM_BYTES,
  RECOMPUTE_SCRATCH_BYTES,
} from '../parallel/activation-memory';
import type { HostCopy } from './program';
import type { ModelSpec } from './spec';

/** What one TP rank holds of the split dimensions. */
export interface LocalDims {
  /** heads */
  h: number;
  /** attention width h·hd */
  a: number;
  /** MLP width */
  f: number;
  /** vocabulary rows */
  v: number;
}

export function localDims(s: ModelSpec, tp: number): LocalDims {
  for (const [what, n] of [
    ['num_attention_heads', s.H],
    ['intermediate size', s.F],
    ['padded vocabulary', s.V],
  ] as const) {
    if (n % tp !== 0) throw new Error(`${what} (${n}) is not divisible by model_parallel_size ${tp}`);
  }
  return { h: s.H / tp, a: (s.H / tp) * s.hd, f: s.F / tp, v: s.V / tp };
}

/** Which fused kernels a rank's passes use, and so which buffers it needs. */
export interface Fusion {
  /** the attention forward keeps each row's log-sum-exp (lse) instead of the probabilities where no
   *  attention dropout applies (evaluation, or dropout 0): through the recomputing backward's scratch,
   *  or the fused kernel */
  attention: boolean;
  /** the (B*h, T, T) probabilities of every layer, for training with attention dropout or without the fused kernels */
  probabilities: boolean;
  /** how training without attention dropout runs the attention backward when no probabilities are
   *  kept (AttentionBackward); null: the probabilities are kept */
  attentionBackward: AttentionBackward | null;
  /** the MLP-down input gradient through the GELU in one matmul: no dg scratch */
  geluBackward: boolean;
}

export { type AttentionBackward, FUSED_ATTENTION_FROM_BYTES, RECOMPUTE_SCRATCH_BYTES };

const NO_FUSION: Fusion = { attention: false, probabilities: true, attentionBackward: null, geluBackward: false };

/** By default, from FUSED_ATTENTION_FROM_BYTES of one layer's probabilities: the recomputing backward
 *  (faster on the GPUs measured, bench/README.md; it needs no fused kernel) while its scratch fits
 *  RECOMPUTE_SCRATCH_BYTES and a binding, else the fused kernels where they run. `prefer` forces the
 *  attention backward at any size where it can run ('stored': the probabilities kept). With attention
 *  dropout training keeps the probabilities (the mask needs them) and evaluation runs the fused forward. */
export function fusionFor(ctx: GpuContext, s: ModelSpec, d: LocalDims, B: number, prefer?: AttentionBackward): Fusion {
  const probabilitiesBytes = B * d.h * s.T * s.T * 4;
  const large = probabilitiesBytes >= FUSED_ATTENTION_FROM_BYTES;
  const fits =
    probabilitiesBytes <= Math.min(RECOMPUTE_SCRATCH_BYTES, Number(ctx.limits.maxStorageBufferBindingSize ?? Infinity));
  const geluBackward = vec4Aligned({ M: B * s.T, N: d.f, K: s.C });
  if (s.attentionDropout > 0) {
    const attention = prefer !== 'stored' && fusedAttentionSupported(ctx, s.hd) && large;
    return { attention, probabilities: true, attentionBackward: null, geluBackward };
  }
  const backward = chooseAttentionBackward(prefer, large, fits, fusedAttentionSupported(ctx, s.hd));
  return { attention: backward !== null, probabilities: backward === null, attentionBackward: backward, geluBackward };
}

// n: this rank's token rows, N (or B·T/tp with sequence parallelism)
export interface LayerActs {
  x: GpuTensor; // (n, C) residual stream entering the layer
  ln1: GpuTensor; // (n, C)
  ln1Mean: GpuTensor; // (n)
  ln1Rstd: GpuTensor; // (n)
  qkv: GpuTensor; // (N, 3a)
  q: GpuTensor; // (B, h, T, hd)
  k: GpuTensor; // (B, h, T, hd)
  v: GpuTensor; // (B, h, T, hd)
  att: GpuTensor | null; // (B*h, T, T) softmax probabilities (Fusion.probabilities)
  lse: GpuTensor | null; // (B*h, T) log-sum-exp of each score row (Fusion.attention)
  attDrop: GpuTensor | null; // (B*h, T, T) after attention dropout
  yh: GpuTensor; // (B, h, T, hd)
  y: GpuTensor; // (N, a) heads merged
  attnOut: GpuTensor; // (n, C) after the dense projection (+ dropout)
  xMid: GpuTensor; // (n, C) x + attnOut (sequential residual only)
  ln2: GpuTensor; // (n, C)
  ln2Mean: GpuTensor; // (n)
  ln2Rstd: GpuTensor; // (n)
  h: GpuTensor; // (N, f) before GELU
  g: GpuTensor; // (N, f) after GELU
  mlpOut: GpuTensor; // (n, C)
  /** 16-bit activations (half-activations.ts): the tensors above that the backward reads, each
   *  with the packed copy the forward leaves and the backward unpacks from */
  stash?: readonly StashedTensor[];
}

export interface StashedTensor {
  /** the f32 tensor the layer's kernels use (shared by every layer and slot) */
  work: GpuTensor;
  /** u32 (ceil(length / 2)): its 16-bit copy, this slot's and layer's */
  packed: GpuTensor;
}

/** Sequence parallelism's (N, C) buffers, shared by every layer and slot. */
export interface SeqScratch {
  ln: GpuTensor; // (N, C) a norm's output gathered along the sequence: a column-parallel layer's input
  sum: GpuTensor; // (N, C) a row-parallel layer's (or the embedding's) partial output, before the reduce-scatter
  grad: GpuTensor; // (N, C) a row-parallel output's gradient gathered along the sequence
}

export function allocSeqScratch(ctx: GpuContext, s: ModelSpec, B: number): SeqScratch {
  const t = (name: string) => ctx.tensor([B * s.T, s.C], `seq.${name}`);
  return { ln: t('ln'), sum: t('sum'), grad: t('grad') };
}

export interface Acts {
  tokens: GpuTensor; // i32 (N)
  targets: GpuTensor; // i32 (N)
  /** what `targets` holds, kept by whoever writes it (the vocab-parallel loss needs no readback) */
  targetsOnHost?: HostCopy<Int32Array>;
  buckets: GpuTensor; // i32 bucketTokens(tokens)
  layers: LayerActs[];
  xFinal: GpuTensor; // (n, C) output of the last layer
  lnf: GpuTensor; // (n, C)
  lnfMean: GpuTensor; // (n)
  lnfRstd: GpuTensor; // (n)
  logits: GpuTensor; // (N, v)
  losses: GpuTensor; // (N)
  lse: GpuTensor; // (N)
  targetLogit: GpuTensor; // (N) vocab-parallel: the target's logit where this rank owns it
  // backward scratch
  dx: GpuTensor; // (n, C) gradient of the residual stream
  dxSaved: GpuTensor; // (n, C) copy of dx for the parallel (GPT-J) residual
  dBranch: GpuTensor; // (n, C) gradient of a branch output (dropout applied)
  dln: GpuTensor; // (N, C) a column-parallel layer's input gradient (this rank's part of the sum under TP)
  /** (n, C) this rank's rows of dln summed over the TP group (sequence parallelism only) */
  dlnRows?: GpuTensor;
  /** sequence parallelism's shared (N, C) buffers */
  seq?: SeqScratch | null;
  dqkv: GpuTensor; // (N, 3a)
  dq: GpuTensor;
  dk: GpuTensor;
  dv: GpuTensor; // (B, h, T, hd)
  datt: GpuTensor | null; // (B*h, T, T) (Fusion.probabilities, or the recomputing backward's: shared)
  /** (B*h, T, T) one layer's probabilities, recomputed in the backward (shared by every slot) */
  attRecomputed?: GpuTensor | null;
  dsum?: GpuTensor | null; // (B*h, T) rowsum(dyh ∘ yh) (the fused backward)
  dyh: GpuTensor; // (B, h, T, hd)
  dy: GpuTensor; // (N, a)
  dh: GpuTensor; // (N, f)
  dg: GpuTensor | null; // (N, f) (not when the GELU backward is fused)
  dlogits: GpuTensor; // (N, v)
  dropSeed: GpuTensor; // u32 (4) [step seed, first sample id, 0, 0], written with each micro-batch
}

export type Alloc = (name: string, ...shape: number[]) => GpuTensor;

/** One layer's tensors; `stat` allocates the per-row statistics (norm means and rstds, the
 *  attention's log-sum-exp), which 16-bit activations keep per layer while the rest is shared. */
export function layerActs(
  t: Alloc,
  s: ModelSpec,
  d: LocalDims,
  B: number,
  p: string,
  x: GpuTensor | null,
  fused: Fusion = NO_FUSION,
  n = B * s.T,
  stat: Alloc = t,
): LayerActs {
  const T = s.T,
    N = B * T,
    C = s.C,
    hd = s.hd,
    h = d.h;
  return {
    x: x ?? t(`${p}x`, n, C),
    ln1: t(`${p}ln1`, n, C),
    ln1Mean: stat(`${p}ln1Mean`, n),
    ln1Rstd: stat(`${p}ln1Rstd`, n),
    qkv: t(`${p}qkv`, N, 3 * d.a),
    q: t(`${p}q`, B, h, T, hd),
    k: t(`${p}k`, B, h, T, hd),
    v: t(`${p}v`, B, h, T, hd),
    att: fused.probabilities ? t(`${p}att`, B * h, T, T) : null,
    lse: fused.attention ? stat(`${p}lse`, B * h, T) : null,
    attDrop: s.attentionDropout > 0 ? t(`${p}attDrop`, B * h, T, T) : null,
    yh: t(`${p}yh`, B, h, T, hd),
    y: t(`${p}y`, N, d.a),
    attnOut: t(`${p}attnOut`, n, C),
    xMid: t(`${p}xMid`, n, C),
    ln2: t(`${p}ln2`, n, C),
    ln2Mean: stat(`${p}ln2Mean`, n),
    ln2Rstd: stat(`${p}ln2Rstd`, n),
    h: t(`${p}h`, N, d.f),
    g: t(`${p}g`, N, d.f),
    mlpOut: t(`${p}mlpOut`, n, C),
  };
}

/** The k scratch layers that recomputed chunks of k layers recompute into (shared by all slots).
 *  Scratch layer 0's input is always a chunk's saved input, so it has none of its own. */
export function allocRecomputeScratch(
  ctx: GpuContext,
  s: ModelSpec,
  d: LocalDims,
  B: number,
  chunk: number,
  n = B * s.T,
): LayerActs[] {
  const t: Alloc = (name, ...shape) => ctx.tensor(shape, `recompute.${name}`);
  // never bound: each chunk's first layer reads the slot's saved input instead
  const none: GpuTensor = { buffer: null as unknown as GPUBuffer, offset: 0, length: 0, shape: [0], name: 'unused' };
  const fused = fusionFor(ctx, s, d, B);
  return Array.from({ length: chunk }, (_, j) => layerActs(t, s, d, B, `L${j}.`, j === 0 ? none : null, fused, n));
}

export interface ActsOptions {
  tag?: string;
  /** activation recompute (NeoX checkpoint_activations): chunk size k and the shared scratch layers;
   *  with 16-bit activations, the shared f32 chunk inputs (each slot keeps packed copies) */
  recompute?: { chunk: number; scratch: LayerActs[]; half?: HalfChunkInputs };
  /** how the attention runs without kept probabilities (default: fusionFor's choice) */
  attentionBackward?: AttentionBackward;
  /** the recomputing attention backward's scratch, shared by the slots (allocAttentionScratch) */
  attentionScratch?: AttentionScratch | null;
  /** sequence parallelism: this rank's token rows (B·T/tp) and the shared (N, C) buffers */
  seq?: { rows: number; scratch: SeqScratch };
  /** 16-bit activations (half-activations.ts): the work layer shared by the slots; each layer keeps
   *  packed copies (not with recompute) */
  halfWork?: HalfWork;
}

export interface AttentionScratch {
  att: GpuTensor; // (B*h, T, T)
  datt: GpuTensor; // (B*h, T, T)
}

/** The recomputing attention backward's two (B*h, T, T) buffers, or null when it does not apply. */
export function allocAttentionScratch(
  ctx: GpuContext,
  s: ModelSpec,
  d: LocalDims,
  B: number,
  prefer?: AttentionBackward,
): AttentionScratch | null {
  if (fusionFor(ctx, s, d, B, prefer).attentionBackward !== 'recompute') return null;
  return { att: ctx.tensor([B * d.h, s.T, s.T], 'attRecomputed'), datt: ctx.tensor([B * d.h, s.T, s.T], 'datt') };
}

export function allocActs(
  ctx: GpuContext,
  s: ModelSpec,
  d: LocalDims,
  B: number,
  bucketLen: number,
  numLayers = s.L,
  opts: ActsOptions = {},
): Acts {
  const tag = opts.tag ?? '';
  const T = s.T,
    N = B * T,
    C = s.C,
    hd = s.hd,
    h = d.h;
  const t: Alloc = (name, ...shape) => ctx.tensor(shape, tag + name);
  const n = opts.seq?.rows ?? N;
  const ck = opts.recompute;
  const fused = fusionFor(ctx, s, d, B, opts.attentionBackward);
  const recompute =
    fused.attentionBackward === 'recompute' && numLayers > 0
      ? opts.attentionScratch === undefined
        ? allocAttentionScratch(ctx, s, d, B, opts.attentionBackward)
        : opts.attentionScratch
      : null;
  const hw = opts.halfWork;
  if (hw && ck) throw new Error('16-bit activations with recompute keep only chunk inputs (recompute.half)');
  const x0 = hw && numLayers > 0 ? t('L0.x', n, C) : null;
  const layers: LayerActs[] = Array.from({ length: numLayers }, (_, l) => {
    if (hw) return halfLayer(t, s, d, B, hw, l, x0!, n);
    if (!ck) return layerActs(t, s, d, B, `L${l}.`, null, fused, n);
    const scratch = ck.scratch[l % ck.chunk];
    if (l % ck.chunk !== 0) return scratch;
    if (ck.half) return halfChunkFirstLayer(t, scratch, l / ck.chunk, l, ck.half, n, C);
    return { ...scratch, x: t(`L${l}.x`, n, C) };
  });
  return {
    tokens: t('tokens', N),
    targets: t('targets', N),
    targetsOnHost: { current: null },
    buckets: t('buckets', bucketLen),
    layers,
    xFinal: t('xFinal', n, C),
    lnf: t('lnf', n, C),
    lnfMean: t('lnfMean', n),
    lnfRstd: t('lnfRstd', n),
    logits: t('logits', N, d.v),
    losses: t('losses', N),
    lse: t('lse', N),
    targetLogit: t('targetLogit', N),
    dx: t('dx', n, C),
    dxSaved: t('dxSaved', n, C),
    dBranch: t('dBranch', n, C),
    dln: t('dln', N, C),
    dlnRows: opts.seq ? t('dlnRows', n, C) : undefined,
    seq: opts.seq?.scratch ?? null,
    dqkv: t('dqkv', N, 3 * d.a),
    dq: t('dq', B, h, T, hd),
    dk: t('dk', B, h, T, hd),
    dv: t('dv', B, h, T, hd),
    datt: fused.probabilities ? t('datt', B * h, T, T) : (recompute?.datt ?? null),
    attRecomputed: recompute?.att ?? null,
    dsum: fused.attentionBackward === 'fused' ? t('dsum', B * h, T) : null,
    dyh: t('dyh', B, h, T, hd),
    dy: t('dy', N, d.a),
    dh: t('dh', N, d.f),
    dg: fused.geluBackward ? null : t('dg', N, d.f),
    dlogits: t('dlogits', N, d.v),
    dropSeed: t('dropSeed', 4),
  };
}
