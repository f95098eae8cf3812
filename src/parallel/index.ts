// src/parallel: pure parallel planning (rank grid, batch math, layer partition, pipeline
// schedules as data, memory estimate) — no I/O, no GPU.

export { PlanError } from './errors';
export { rankGrid, rankOf, coordOf, type GridSizes, type RankCoord, type RankGrid } from './grid';
export { BATCH_KEYS, deriveBatch, type Batch, type BatchGiven } from './batch';
export {
  type ComputeOp,
  type CommOp,
  type ScheduleOp,
  type ChunkLayout,
  isCompute,
  opLabel,
  computeLabel,
  globalChunk,
  chunkAt,
} from './ops';
export {
  oneFOneB,
  oneFOneBAllStages,
  interleavedOneFOneB,
  interleavedAllStages,
  oneFOneBComputeOrder,
  interleavedComputeOrder,
  bubbleFraction,
} from './schedule';
export { timeSchedule, placeTransfers, producerOf, type Durations } from './placement';
export { simulateSchedules, type SimResult } from './simulate';
export { partitionLayers, balancedBounds, type PartitionMethod } from './partition';
export { pipeItems, totalParams, transformerLayerParams, type ModelShape, type PipeItem } from './params';
export {
  estimateMemory,
  layerActivationBytes,
  zeroStageRun,
  type MemoryEstimate,
  type MemoryInput,
} from './memory';
export { makePlan, peakInFlightOf, type Plan, type PlanInput, type StagePlan } from './plan';
export { planInputFromConfig, planFromConfig, plan, TOKENIZER_VOCAB, type PlanOverrides } from './from-config';
export { planJson } from './plan-json';
export { renderPlanText } from './render-text';
