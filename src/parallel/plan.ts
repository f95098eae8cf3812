// The whole parallel plan for one run: sizes, groups, layer partition, per-stage schedules,
// memory and bubble. Pure: a PlanInput in, a Plan out, or a PlanError naming the numbers.

import { deriveBatch, type Batch } from './batch';
import { PlanError, requirePositiveInt } from './errors';
import { rankGrid, type RankGrid } from './grid';
import { type HalfStorage, halfStorageRun, NO_HALF_STORAGE } from './half-storage';
import { estimateMemory, type MemoryEstimate, zeroStageRun } from './memory';
import { isCompute, type ScheduleOp } from './ops';
import { paddedElems, pipeItems, totalParams, type ModelShape, type NormKind } from './params';
import { partitionLayers } from './partition';
import { bubbleFraction, interleavedAllStages, oneFOneBAllStages } from './schedule';
import { slotPlan } from './slots';

export interface PlanInput {
  world: number;
  /** model_parallel_size */
  tp: number;
  /** pipe_parallel_size as NeoX reads it: 0 = no pipeline engine, 0 and 1 both mean one stage */
  pipeParallelSize: number;
  /** model chunks per stage for interleaved 1F1B; 1 = non-interleaved */
  virtualChunks: number;
  numLayers: number;
  hidden: number;
  heads: number;
  ffnHidden?: number;
  seqLength: number;
  maxPositions?: number;
  posEmb: string;
  norm: NormKind;
  tiedEmbeddings: boolean;
  vocabSize: number;
  makeVocabSizeDivisibleBy: number;
  trainBatchSize?: number;
  microBatch?: number;
  gradientAccumulationSteps?: number;
  partitionMethod: string;
  /** zero_optimization.stage as configured */
  zeroStage: number;
  recomputeActivations: boolean;
  /** checkpoint_num_layers: layers recomputed together (default 1) */
  recomputeLayers?: number;
  /** Megatron's sequence parallelism inside the TP group (no effect with tp 1) */
  sequenceParallel?: boolean;
  /** attention_dropout > 0: the trainer keeps the dropped probabilities too */
  attentionDropout?: boolean;
  /** gpt_j_residual */
  parallelResidual?: boolean;
  /** fp16 / bf16: the format, and what half_storage asks to keep in 16 bits in GPU memory */
  half?: { format: 'fp16' | 'bf16'; storage: HalfStorage } | null;
}

export interface StagePlan {
  stage: number;
  /** transformer layers [first, lastExclusive) of the stage (its first chunk when interleaved) */
  layers: [number, number];
  /** every chunk's layers when interleaved: chunks[k] is global chunk k·P + stage */
  chunks: [number, number][];
  /** embedding / final norm / head when the stage holds them */
  holds: string[];
  /** parameters held by one TP rank of this stage */
  params: number;
  schedule: ScheduleOp[];
  /** most microbatch-chunks whose activations are held at once */
  peakInFlight: number;
  /** most microbatches whose buffers are live at once: from the activation's arrival (a
   *  schedule may receive the next input before the current backward) to the backward */
  bufferSlots: number;
  memory: MemoryEstimate;
}

export interface Plan extends Batch {
  world: number;
  tp: number;
  pp: number;
  dp: number;
  pipelineEngine: boolean;
  virtualChunks: number;
  vocabSize: number;
  paddedVocabSize: number;
  totalParams: number;
  partitionMethod: string;
  /** zero_optimization.stage as configured, and the stage training runs (0 with DP 1; memory is its) */
  zeroStage: number;
  zeroStageRun: number;
  /** sequence parallelism runs (sequence_parallel with tp > 1) */
  sequenceParallel: boolean;
  /** fp16 / bf16 (null: f32), and what is kept in 16 bits in GPU memory in this layout */
  half: { format: 'fp16' | 'bf16'; storage: HalfStorage } | null;
  grid: RankGrid;
  stages: StagePlan[];
  bubbleFraction: number;
}

export function makePlan(input: PlanInput): Plan {
  const { world, tp } = input;
  requirePositiveInt('world size', world);
  requirePositiveInt('model_parallel_size', tp);
  if (!Number.isInteger(input.pipeParallelSize) || input.pipeParallelSize < 0) {
    throw new PlanError(`pipe_parallel_size must be 0 or a positive integer, got ${input.pipeParallelSize}`);
  }
  const pp = Math.max(1, input.pipeParallelSize);
  const v = input.virtualChunks;
  requirePositiveInt('virtual pipeline stages', v);
  for (const [key, value] of [
    ['num_layers', input.numLayers],
    ['hidden_size', input.hidden],
    ['num_attention_heads', input.heads],
    ['seq_length', input.seqLength],
  ] as const) {
    requirePositiveInt(key, value);
  }
  if (world % (pp * tp) !== 0) {
    throw new PlanError(
      `world size ${world} is not divisible by pipe_parallel_size ${pp} × model_parallel_size ${tp} = ${pp * tp}`,
    );
  }
  if (input.hidden % tp !== 0)
    throw new PlanError(`hidden_size ${input.hidden} is not divisible by model_parallel_size ${tp}`);
  if (input.heads % tp !== 0)
    throw new PlanError(`num_attention_heads ${input.heads} is not divisible by model_parallel_size ${tp}`);
  if (input.hidden % input.heads !== 0)
    throw new PlanError(`hidden_size ${input.hidden} is not divisible by num_attention_heads ${input.heads}`);
  if (v > 1 && pp < 2)
    throw new PlanError(
      `interleaved 1F1B (${v} virtual stages) needs pipe_parallel_size ≥ 2, got ${input.pipeParallelSize}`,
    );
  if (input.numLayers < pp * v) {
    throw new PlanError(
      `more pipeline stages than layers: pipe_parallel_size ${pp}${v > 1 ? ` × ${v} virtual stages` : ''} = ${pp * v} for num_layers ${input.numLayers}`,
    );
  }
  const dp = world / (pp * tp);
  const batch = deriveBatch(
    {
      train_batch_size: input.trainBatchSize,
      train_micro_batch_size_per_gpu: input.microBatch,
      gradient_accumulation_steps: input.gradientAccumulationSteps,
    },
    dp,
  );
  const m = batch.gradient_accumulation_steps;
  // Fewer microbatches than stages run as Megatron and DeepSpeed run them: every stage warms up
  // with min(P − s − 1, m) forwards and there may be no steady state. The interleaved schedule
  // walks the microbatches in groups of P per chunk, so it needs m to be a multiple of P.
  if (v > 1 && m % pp !== 0) {
    throw new PlanError(
      `interleaved 1F1B (num_layers_per_virtual_pipeline_stage: ${v} virtual stages) needs gradient_accumulation_steps (${m}) to be a multiple of pipe_parallel_size (${pp})`,
    );
  }

  const multiple = input.makeVocabSizeDivisibleBy * tp;
  const paddedVocabSize = Math.ceil(input.vocabSize / multiple) * multiple;
  const shape: ModelShape = {
    numLayers: input.numLayers,
    hidden: input.hidden,
    heads: input.heads,
    ffnHidden: input.ffnHidden ?? 4 * input.hidden,
    paddedVocab: paddedVocabSize,
    seqLength: input.seqLength,
    maxPositions: input.maxPositions ?? input.seqLength,
    posEmb: input.posEmb,
    norm: input.norm,
    tiedEmbeddings: input.tiedEmbeddings,
  };
  const items = pipeItems(shape, tp, pp > 1);
  const bounds = partitionLayers(items, pp * v, input.partitionMethod);
  const schedules = v > 1 ? interleavedAllStages(pp, m, v) : oneFOneBAllStages(pp, m);
  const recomputeLayers = input.recomputeActivations ? (input.recomputeLayers ?? 1) : 0;
  const halfRun = input.half
    ? halfStorageRun(input.half.storage, { zeroStage: zeroStageRun(input.zeroStage, dp) })
    : NO_HALF_STORAGE;

  const layerRange = (g: number): [number, number] => {
    const inPart = items.slice(bounds[g], bounds[g + 1]).flatMap((it) => (it.layer === undefined ? [] : [it.layer]));
    const first =
      inPart.length > 0 ? inPart[0] : items.slice(0, bounds[g]).filter((it) => it.layer !== undefined).length;
    return [first, first + inPart.length];
  };
  const stages: StagePlan[] = Array.from({ length: pp }, (_, s) => {
    const globals = Array.from({ length: v }, (_, k) => k * pp + s);
    const held = globals.flatMap((g) => items.slice(bounds[g], bounds[g + 1]));
    const chunks = globals.map(layerRange);
    const params = held.reduce((n, it) => n + it.params, 0);
    const peakInFlight = peakInFlightOf(schedules[s]);
    const layerItem = held.find((it) => it.layer !== undefined);
    const memory = estimateMemory({
      flat: paddedElems(held.flatMap((it) => it.tensors)),
      rest: paddedElems(held.filter((it) => it.layer === undefined).flatMap((it) => it.tensors)),
      layer: layerItem ? paddedElems(layerItem.tensors) : 0,
      dp,
      zeroStage: zeroStageRun(input.zeroStage, dp),
      tp,
      heads: input.heads,
      hidden: input.hidden,
      seqLength: input.seqLength,
      microBatch: batch.train_micro_batch_size_per_gpu,
      paddedVocab: paddedVocabSize,
      ffnHidden: input.ffnHidden ?? 4 * input.hidden,
      // the trainer's activation sets are made for the stage's largest model chunk, one set per slot
      // (interleaved 1F1B: every chunk's passes run on every set)
      layers: Math.max(...chunks.map(([a, b]) => b - a)),
      slots: slotPlan(schedules[s], v, peakLiveOf(schedules[s])).count,
      recomputeLayers,
      sequenceParallel: !!input.sequenceParallel,
      attentionDropout: !!input.attentionDropout,
      parallelResidual: !!input.parallelResidual,
      halfWeights: halfRun.weights,
      halfActivations: halfRun.activations,
    });
    const holds = held.filter((it) => it.layer === undefined).map((it) => it.name);
    return {
      stage: s,
      layers: chunks[0],
      chunks,
      holds,
      params,
      schedule: schedules[s],
      peakInFlight,
      bufferSlots: peakLiveOf(schedules[s]),
      memory,
    };
  });

  return {
    world,
    tp,
    pp,
    dp,
    pipelineEngine: input.pipeParallelSize > 0,
    virtualChunks: v,
    ...batch,
    vocabSize: input.vocabSize,
    paddedVocabSize,
    totalParams: totalParams(shape),
    partitionMethod: input.partitionMethod,
    zeroStage: input.zeroStage,
    zeroStageRun: zeroStageRun(input.zeroStage, dp),
    sequenceParallel: !!input.sequenceParallel && tp > 1,
    half: input.half ? { format: input.half.format, storage: halfRun } : null,
    grid: rankGrid({ tp, pp, dp }),
    stages,
    bubbleFraction: bubbleFraction(pp, m, v),
  };
}

/** Highest running count of microbatches between their first op on this stage (an activation
 *  received, or the forward) and their backward: how many activation slots the executor needs.
 *  Microbatches enter and leave in order, so slot = microbatch mod this never collides. */
export function peakLiveOf(ops: readonly ScheduleOp[]): number {
  const live = new Set<string>();
  let peak = 0;
  for (const op of ops) {
    const key = `${op.microbatch}.${op.chunk ?? 0}`;
    if (op.kind === 'backward') live.delete(key);
    else if (op.kind === 'forward' || (op.kind === 'recv' && op.what === 'activation')) live.add(key);
    peak = Math.max(peak, live.size);
  }
  return peak;
}

/** Highest running count of forwards not yet matched by their backward. */
export function peakInFlightOf(ops: readonly ScheduleOp[]): number {
  let live = 0,
    peak = 0;
  for (const op of ops) {
    if (!isCompute(op)) continue;
    live += op.kind === 'forward' ? 1 : -1;
    peak = Math.max(peak, live);
  }
  return peak;
}
