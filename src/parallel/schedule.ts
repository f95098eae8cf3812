// Compute orders of the pipeline schedules (which forward/backward runs when on one stage),
// and the public schedule functions, which add the point-to-point transfers.
//
// Non-interleaved 1F1B: stage s of P runs w = min(P − s − 1, m) warm-up forwards, then
// alternates one forward and one backward, then drains the remaining w backwards.
// Interleaved 1F1B (Megatron): each stage holds v model chunks; the m·v virtual microbatches
// run in groups of P microbatches per chunk; warm-up is min(2·(P − s − 1) + (v − 1)·P, m·v).

import { PlanError, requirePositiveInt } from './errors';
import type { ComputeOp, ScheduleOp } from './ops';
import { placeTransfers } from './placement';

export function oneFOneBComputeOrder(pp: number, stage: number, microbatches: number): ComputeOp[] {
  checkArgs(pp, stage, microbatches);
  const warmup = Math.min(pp - stage - 1, microbatches);
  const ops: ComputeOp[] = [];
  for (let i = 0; i < warmup; i++) ops.push({ kind: 'forward', microbatch: i });
  for (let j = 0; j < microbatches - warmup; j++) {
    ops.push({ kind: 'forward', microbatch: warmup + j });
    ops.push({ kind: 'backward', microbatch: j });
  }
  for (let j = microbatches - warmup; j < microbatches; j++) ops.push({ kind: 'backward', microbatch: j });
  return ops;
}

export function interleavedComputeOrder(
  pp: number,
  stage: number,
  microbatches: number,
  virtualChunks: number,
): ComputeOp[] {
  checkArgs(pp, stage, microbatches);
  requirePositiveInt('virtual chunks', virtualChunks);
  if (virtualChunks > 1 && microbatches % pp !== 0) {
    throw new PlanError(
      `interleaved 1F1B needs the number of microbatches (gradient_accumulation_steps ${microbatches}) to be a multiple of pipe_parallel_size ${pp}`,
    );
  }
  const total = microbatches * virtualChunks;
  const warmup = Math.min(2 * (pp - stage - 1) + (virtualChunks - 1) * pp, total);
  // Virtual microbatch t → (chunk, microbatch): groups of P microbatches go through chunk 0, then chunk 1, ….
  const at = (t: number, kind: ComputeOp['kind']): ComputeOp => {
    const inGroup = t % (pp * virtualChunks);
    const k = Math.floor(inGroup / pp);
    const microbatch = Math.floor(t / (pp * virtualChunks)) * pp + (t % pp);
    const chunk = kind === 'forward' ? k : virtualChunks - 1 - k;
    return virtualChunks > 1 ? { kind, microbatch, chunk } : { kind, microbatch };
  };
  const ops: ComputeOp[] = [];
  for (let t = 0; t < warmup; t++) ops.push(at(t, 'forward'));
  for (let r = 0; r < total - warmup; r++) {
    ops.push(at(warmup + r, 'forward'));
    ops.push(at(r, 'backward'));
  }
  for (let r = total - warmup; r < total; r++) ops.push(at(r, 'backward'));
  return ops;
}

/** Every stage's complete op list (computes + sends/recvs) for non-interleaved 1F1B. */
export function oneFOneBAllStages(pp: number, microbatches: number): ScheduleOp[][] {
  const orders = Array.from({ length: pp }, (_, s) => oneFOneBComputeOrder(pp, s, microbatches));
  return placeTransfers({ pp, virtualChunks: 1 }, orders);
}

/** Stage `stage`'s op list for non-interleaved 1F1B. */
export function oneFOneB(pp: number, stage: number, microbatches: number): ScheduleOp[] {
  checkArgs(pp, stage, microbatches);
  return oneFOneBAllStages(pp, microbatches)[stage];
}

export function interleavedAllStages(pp: number, microbatches: number, virtualChunks: number): ScheduleOp[][] {
  const orders = Array.from({ length: pp }, (_, s) => interleavedComputeOrder(pp, s, microbatches, virtualChunks));
  return placeTransfers({ pp, virtualChunks }, orders);
}

/** Stage `stage`'s op list for interleaved 1F1B with `virtualChunks` model chunks per stage. */
export function interleavedOneFOneB(
  pp: number,
  stage: number,
  microbatches: number,
  virtualChunks: number,
): ScheduleOp[] {
  checkArgs(pp, stage, microbatches);
  return interleavedAllStages(pp, microbatches, virtualChunks)[stage];
}

/** Idle share of a stage's time under 1F1B with equal stages: (P − 1) / (v·m + P − 1). */
export function bubbleFraction(pp: number, microbatches: number, virtualChunks = 1): number {
  return (pp - 1) / (virtualChunks * microbatches + pp - 1);
}

function checkArgs(pp: number, stage: number, microbatches: number): void {
  requirePositiveInt('pipeline stages', pp);
  requirePositiveInt('microbatches', microbatches);
  if (!Number.isInteger(stage) || stage < 0 || stage >= pp)
    throw new PlanError(`stage ${stage} is outside 0..${pp - 1}`);
}
