// Memory per rank, in bytes. tabtron trains in f32 (WebGPU has no shader-f16 on the machines we
// target), so parameters, gradients and activations take 4 bytes per element.
//   parameters  stage params (per TP rank) × 4
//   gradients   stage params × 4
//   optimizer   Adam m and v: 2 × 4 bytes per param
//   ZeRO        the stage that runs (zeroStageRun: tabtron runs stages 2 and 3 as 1): stage 1
//               shards Adam's m and v over DP; parameters and gradients stay whole on every rank
//   activations per transformer layer and microbatch, TP without sequence parallelism
//               (Korthikanti et al. 2022, counted in 16-bit units, scaled to 4-byte elements):
//                 s·b·h·(10 + 24/t + 5·a·s/(h·t)) × 2
//               with checkpoint_activations a layer keeps only its input (s·b·h elements, whole
//               on every TP rank: partition_activations is not implemented) and one layer is
//               fully live at a time during recompute. The last stage adds its logits and their gradient,
//               2·s·b·V/t elements. Held for the peak number of in-flight microbatches.

import { PlanError } from './errors';

export const BYTES_PER_ELEMENT = 4;

export interface MemoryInput {
  /** parameters of one TP rank of this stage */
  params: number;
  dp: number;
  /** the ZeRO stage that runs (0 or 1; see zeroStageRun) */
  zeroStage: number;
  /** transformer layers per model chunk resident for one in-flight microbatch */
  layersPerMicrobatch: number;
  /** peak count of microbatches (of one chunk) whose activations are held at once */
  inFlight: number;
  microBatch: number;
  seqLength: number;
  hidden: number;
  heads: number;
  tp: number;
  paddedVocab: number;
  isLastStage: boolean;
  recomputeActivations: boolean;
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

  const full = layerActivationBytes(m);
  const sbh = m.seqLength * m.microBatch * m.hidden;
  const perMicrobatch = m.recomputeActivations ? m.layersPerMicrobatch * sbh * el : m.layersPerMicrobatch * full;
  const recompute = m.recomputeActivations && m.layersPerMicrobatch > 0 ? full : 0;
  const logits = m.isLastStage ? (2 * m.seqLength * m.microBatch * m.paddedVocab * el) / m.tp : 0;
  const activations = m.inFlight * perMicrobatch + recompute + logits;
  return { params, grads, optimizer, activations, total: params + grads + optimizer + activations };
}
