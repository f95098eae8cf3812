// Memory per rank, in bytes. tabtron trains in f32 (WebGPU has no shader-f16 on the machines we
// target), so parameters, gradients and activations take 4 bytes per element.
//   parameters  stage params (per TP rank) × 4
//   gradients   stage params × 4
//   optimizer   Adam m and v: 2 × 4 bytes per param
//   ZeRO        the stage that runs (zeroStageRun: tabtron runs stages 2 and 3 as 1): stage 1
//               shards Adam's m and v over DP; parameters and gradients stay whole on every rank
//   activations the buffers the trainer allocates, counted (activation-memory.ts): per activation
//               slot every layer's saved tensors (with checkpoint_activations only each chunk's
//               input), logits and backward scratch; plus what the slots share. With
//               sequence_parallel the norm, dropout and residual tensors hold s/t of the tokens.
//               layerActivationBytes is Korthikanti et al.'s per-layer model (TP without sequence
//               parallelism), kept for comparison.

import { activationBytes, type ActivationCountInput } from './activation-memory';
import { PlanError } from './errors';

export const BYTES_PER_ELEMENT = 4;

export interface MemoryInput
  extends Omit<
    ActivationCountInput,
    'layers' | 'slots' | 'hidden' | 'heads' | 'tp' | 'microBatch' | 'seqLength' | 'paddedVocab'
  > {
  /** parameters of one TP rank of this stage */
  params: number;
  dp: number;
  /** the ZeRO stage that runs (0 or 1; see zeroStageRun) */
  zeroStage: number;
  /** transformer layers the stage holds */
  layers: number;
  /** activation sets the trainer allocates: micro-batches whose buffers are live at once */
  slots: number;
  microBatch: number;
  seqLength: number;
  hidden: number;
  heads: number;
  tp: number;
  paddedVocab: number;
}

export interface MemoryEstimate {
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

/** The ZeRO stage training runs for a requested zero_optimization.stage: 2 and 3 run as 1. */
export function zeroStageRun(requested: number): number {
  return Math.min(requested, 1);
}

export function estimateMemory(m: MemoryInput): MemoryEstimate {
  const el = BYTES_PER_ELEMENT;
  if (m.zeroStage > 1) throw new PlanError(`ZeRO stage ${m.zeroStage} does not run in tabtron (see zeroStageRun)`);
  const params = m.params * el;
  const grads = m.params * el;
  const optimizer = (m.params * 2 * el) / (m.zeroStage >= 1 ? m.dp : 1);

  const activations = activationBytes(m);
  return { params, grads, optimizer, activations, total: params + grads + optimizer + activations };
}
