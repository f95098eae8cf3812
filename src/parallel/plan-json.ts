// The plan as one JSON object (`tabtron plan --json`). Field names follow NeoX/DeepSpeed where
// they have one. schedule[].ops lists only compute steps ("F<microbatch>" / "B<microbatch>");
// schedule[].chunks gives each step's model chunk when interleaved; schedule[].steps is the
// complete list, sends and receives included, as the executor runs it.

import { computeLabel, isCompute, opLabel } from './ops';
import type { Plan } from './plan';

export function planJson(plan: Plan, warnings: readonly string[] = []) {
  return {
    world: plan.world,
    tp: plan.tp,
    pp: plan.pp,
    dp: plan.dp,
    pipeline_engine: plan.pipelineEngine,
    virtual_stages: plan.virtualChunks,
    train_batch_size: plan.train_batch_size,
    train_micro_batch_size_per_gpu: plan.train_micro_batch_size_per_gpu,
    gradient_accumulation_steps: plan.gradient_accumulation_steps,
    vocab_size: plan.vocabSize,
    padded_vocab_size: plan.paddedVocabSize,
    total_params: plan.totalParams,
    pipe_partition_method: plan.partitionMethod,
    // memory_bytes_per_rank is computed for the stage that runs
    zero_optimization: { stage: plan.zeroStage, stage_run: plan.zeroStageRun },
    sequence_parallel: plan.sequenceParallel,
    // fp16 / bf16 and what is kept in 16 bits in GPU memory (memory_bytes_per_rank counts it); null: f32
    precision: plan.half ? { format: plan.half.format, half_storage: plan.half.storage } : null,
    bubble_fraction: plan.bubbleFraction,
    groups: plan.grid.groups,
    ranks: plan.grid.coords,
    stages: plan.stages.map((s) => ({
      stage: s.stage,
      layers: s.layers,
      ...(plan.virtualChunks > 1 ? { chunks: s.chunks } : {}),
      holds: s.holds,
      params_per_rank: s.params,
      peak_in_flight_microbatches: s.peakInFlight,
      memory_bytes_per_rank: s.memory,
    })),
    schedule: plan.stages.map((s) => {
      const computes = s.schedule.filter(isCompute);
      return {
        stage: s.stage,
        ops: computes.map((op) => computeLabel({ kind: op.kind, microbatch: op.microbatch })),
        ...(plan.virtualChunks > 1 ? { chunks: computes.map((op) => op.chunk ?? 0) } : {}),
        steps: s.schedule.map(opLabel),
      };
    }),
    warnings: [...warnings],
  };
}
