// Memory per rank, in bytes. Tensors are f32 in memory (f16 arithmetic, where a GPU has shader-f16,
// rounds operands in registers: gpu/kernels/matmul-f16.ts), so parameters, gradients and activations
// take 4 bytes per element, except what fp16 / bf16 keep in 16 bits (half-storage.ts): two values to 4 bytes.
//   flat vector each tensor padded to 64 elements (model/params.ts), and with ZeRO (DP > 1) the
//               whole padded to a multiple of 64·DP: F elements, shard F/DP
//   window      ZeRO-2/3's working buffer (model/param-window.ts): the stage's embedding, final
//               norm and head, plus ONE transformer layer's tensors (the layer running now)
//   parameters  F; ZeRO-3: shard + window (each layer gathered into it just before use);
//               16-bit weights: the f32 master F + its packed copy F/2 (4-byte words) + the window
//               each layer is unpacked into
//   gradients   F; ZeRO-2/3: shard + window (each layer reduce-scattered right after its backward)
//   optimizer   Adam m and v: 2 × F; ZeRO ≥ 1: 2 × shard
//   (ZeRO needs DP > 1: with one replica the stage that runs is 0)
//   activations the buffers the trainer allocates, counted (activation-memory.ts): per activation
//               slot every layer's saved tensors (with checkpoint_activations only each chunk's
//               input), logits and backward scratch; plus what the slots share. With
//               sequence_parallel the norm, dropout and residual tensors hold s/t of the tokens.
//               layerActivationBytes is Korthikanti et al.'s per-layer model (TP without sequence
//               parallelism), kept for comparison.
// Every number is what the trainer allocates, to the byte (e2e/layouts.spec.ts measures them).

import { activationBytes, type ActivationCountInput } from './activation-memory';
import { PlanError } from './errors';
import { FLAT_ALIGN } from './params';

export const BYTES_PER_ELEMENT = 4;

export interface MemoryInput
  extends Omit<
    ActivationCountInput,
    'layers' | 'slots' | 'hidden' | 'heads' | 'tp' | 'microBatch' | 'seqLength' | 'paddedVocab'
  > {
  /** elements of the stage's flat parameter vector on one TP rank, each tensor padded (paddedElems) */
  flat: number;
  /** padded elements of the stage's tensors outside transformer layers, and of one layer (0: none) */
  rest: number;
  layer: number;
  dp: number;
  /** the ZeRO stage that runs (zeroStageRun) */
  zeroStage: number;
  /** transformer layers of the stage's largest model chunk (all of them without interleaving) */
  layers: number;
  /** activation sets the trainer allocates: micro-batches whose buffers are live at once */
  slots: number;
  microBatch: number;
  seqLength: number;
  hidden: number;
  heads: number;
  tp: number;
  paddedVocab: number;
  /** 16-bit weights run (half-storage.ts halfStorageRun: not with ZeRO-3) */
  halfWeights?: boolean;
}

export interface MemoryEstimate {
  /** bytes of the window (ZeRO-2/3: in grads; ZeRO-3 or 16-bit weights: in params too); else 0 */
  window: number;
  /** 16-bit weights: bytes of the packed working copy (in params); else 0 */
  halfWeights: number;
  params: number;
  grads: number;
  optimizer: number;
  activations: number;
  total: number;
}

/** Bytes of one layer's activations for one microbatch, kept for backward without recompute. */
export function layerActivationBytes(
  m: Pick<MemoryInput, 'seqLength' | 'microBatch' | 'hidden' | 'heads' | 'tp'>,
): number {
  const { seqLength: s, microBatch: b, hidden: h, heads: a, tp: t } = m;
  return s * b * h * (10 + 24 / t + (5 * a * s) / (h * t)) * (BYTES_PER_ELEMENT / 2);
}

/** The ZeRO stage training runs for a requested zero_optimization.stage: it, with DP > 1. */
export function zeroStageRun(requested: number, dp: number): number {
  if (![0, 1, 2, 3].includes(requested))
    throw new PlanError(`zero_optimization.stage must be 0, 1, 2 or 3, got ${requested}`);
  return dp > 1 ? requested : 0;
}

export function estimateMemory(m: MemoryInput): MemoryEstimate {
  const el = BYTES_PER_ELEMENT;
  const stage = m.dp > 1 ? m.zeroStage : 0;
  const unit = FLAT_ALIGN * m.dp;
  const F = stage >= 1 ? Math.ceil(m.flat / unit) * unit : m.flat;
  const shard = stage >= 1 ? F / m.dp : F;
  const half = !!m.halfWeights && stage < 3;
  const window = stage >= 2 || half ? m.rest + m.layer : 0;
  const packed = half ? Math.max(16, Math.ceil((Math.ceil(F / 2) * 4) / 16) * 16) : 0;
  const params = (stage >= 3 ? shard + window : half ? F + window : F) * el + packed;
  const grads = (stage >= 2 ? shard + window : F) * el;
  const optimizer = 2 * shard * el;

  const activations = activationBytes(m);
  return {
    window: window * el,
    halfWeights: packed,
    params,
    grads,
    optimizer,
    activations,
    total: params + grads + optimizer + activations,
  };
}
