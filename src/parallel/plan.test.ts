import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index';
import { planFromConfig, planInputFromConfig } from './from-config';
import { isCompute } from './ops';
import { makePlan, type PlanInput } from './plan';
import { planJson } from './plan-json';
import { renderPlanText } from './render-text';
import { simulateSchedules } from './simulate';

const input = (over: Partial<PlanInput> = {}): PlanInput => ({
  world: 16,
  tp: 2,
  pipeParallelSize: 4,
  virtualChunks: 1,
  numLayers: 8,
  hidden: 64,
  heads: 4,
  seqLength: 32,
  posEmb: 'rotary',
  norm: 'layernorm',
  tiedEmbeddings: false,
  vocabSize: 50257,
  makeVocabSizeDivisibleBy: 128,
  microBatch: 2,
  gradientAccumulationSteps: 8,
  partitionMethod: 'type:transformer',
  zeroStage: 1,
  recomputeActivations: false,
  ...over,
});

describe('makePlan', () => {
  it('derives sizes, batch and padded vocabulary', () => {
    const p = makePlan(input());
    expect([p.tp, p.pp, p.dp, p.world]).toEqual([2, 4, 2, 16]);
    expect(p.train_batch_size).toBe(2 * 8 * 2);
    expect(p.paddedVocabSize).toBe(50432); // next multiple of 128 × 2
    expect(makePlan(input({ tp: 1, world: 8 })).paddedVocabSize).toBe(50304);
  });

  it('reads pipe_parallel_size 0 and 1 as one stage; 0 means no pipeline engine', () => {
    for (const pipe of [0, 1]) {
      const p = makePlan(input({ pipeParallelSize: pipe, world: 4 }));
      expect([p.pp, p.dp, p.pipelineEngine]).toEqual([1, 2, pipe === 1]);
      expect(p.stages[0].holds).toEqual(['embedding', 'final norm', 'head']);
    }
  });

  it('covers every layer once, in stage order, and gives each stage a schedule that runs', () => {
    for (const over of [
      {},
      { numLayers: 10, partitionMethod: 'uniform' },
      { virtualChunks: 2 },
      { partitionMethod: 'parameters', numLayers: 12 },
    ]) {
      const p = makePlan(input(over));
      const chunks = p.stages
        .flatMap((s) => s.chunks.map((c, k) => ({ g: k * p.pp + s.stage, c })))
        .sort((a, b) => a.g - b.g);
      expect(chunks[0].c[0]).toBe(0);
      chunks.forEach((x, i) => i > 0 && expect(x.c[0]).toBe(chunks[i - 1].c[1]));
      expect(chunks.at(-1)!.c[1]).toBe(over.numLayers ?? 8);
      expect(p.stages[0].holds).toContain('embedding');
      expect(p.stages.at(-1)!.holds).toContain('head');
      const sim = simulateSchedules(
        { pp: p.pp, virtualChunks: p.virtualChunks },
        p.stages.map((s) => s.schedule),
        0,
      );
      expect(sim.ok).toBe(true);
    }
  });

  it('reports at most P − s microbatches in flight on stage s, and the bubble', () => {
    const p = makePlan(input());
    expect(p.stages.map((s) => s.peakInFlight)).toEqual([4, 3, 2, 1]);
    // a stage past the first receives microbatch i+1's activation before running backward i
    expect(p.stages.map((s) => s.bufferSlots)).toEqual([4, 4, 3, 2]);
    expect(p.bubbleFraction).toBeCloseTo(3 / 11, 12);
  });

  it('fails with messages that name the numbers', () => {
    const fails = (over: Partial<PlanInput>, message: string) => expect(() => makePlan(input(over))).toThrow(message);
    fails({ world: 36 }, 'world size 36 is not divisible by pipe_parallel_size 4 × model_parallel_size 2 = 8');
    fails({ tp: 3, world: 24, heads: 6 }, 'hidden_size 64 is not divisible by model_parallel_size 3');
    fails(
      { heads: 6, hidden: 96, tp: 4, world: 32 },
      'num_attention_heads 6 is not divisible by model_parallel_size 4',
    );
    fails({ heads: 6 }, 'hidden_size 64 is not divisible by num_attention_heads 6');
    fails({ numLayers: 3 }, 'more pipeline stages than layers: pipe_parallel_size 4 = 4 for num_layers 3');
    fails(
      { virtualChunks: 3 },
      'more pipeline stages than layers: pipe_parallel_size 4 × 3 virtual stages = 12 for num_layers 8',
    );
    fails(
      { trainBatchSize: 33 },
      'train_batch_size (33) must equal train_micro_batch_size_per_gpu (2) * gradient_accumulation_steps (8) * data-parallel size (2) = 32',
    );
    fails(
      { virtualChunks: 2, gradientAccumulationSteps: 6 },
      'interleaved 1F1B (num_layers_per_virtual_pipeline_stage: 2 virtual stages) needs gradient_accumulation_steps (6) to be a multiple of pipe_parallel_size (4)',
    );
    fails(
      { virtualChunks: 2, gradientAccumulationSteps: 2 },
      'needs gradient_accumulation_steps (2) to be a multiple of pipe_parallel_size (4)',
    );
    fails(
      { virtualChunks: 2, pipeParallelSize: 1, world: 4 },
      'interleaved 1F1B (2 virtual stages) needs pipe_parallel_size ≥ 2, got 1',
    );
    fails({ world: 0 }, 'world size must be a positive integer, got 0');
    fails({ pipeParallelSize: -1 }, 'pipe_parallel_size must be 0 or a positive integer, got -1');
    fails({ partitionMethod: 'type:attention' }, 'pipe_partition_method "type:attention" matches no layer');
  });
});

describe('planJson', () => {
  it('has the documented fields, with ops as F<mb>/B<mb>', () => {
    const j = planJson(makePlan(input()));
    expect(j).toMatchObject({
      tp: 2,
      pp: 4,
      dp: 2,
      world: 16,
      train_batch_size: 32,
      train_micro_batch_size_per_gpu: 2,
      gradient_accumulation_steps: 8,
      padded_vocab_size: 50432,
    });
    expect(j.groups.pp).toEqual([
      [0, 4, 8, 12],
      [1, 5, 9, 13],
      [2, 6, 10, 14],
      [3, 7, 11, 15],
    ]);
    expect(j.stages.map((s) => s.layers)).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
      [6, 8],
    ]);
    expect(j.schedule[3].ops.slice(0, 4)).toEqual(['F0', 'B0', 'F1', 'B1']);
    expect(j.schedule[0].ops).toHaveLength(16);
    expect(j.schedule[1].steps.length).toBeGreaterThan(j.schedule[1].ops.length);
    expect(JSON.parse(JSON.stringify(j))).toEqual(j);
  });
});

describe('planInputFromConfig', () => {
  const config = {
    model_parallel_size: 2,
    pipe_parallel_size: 4,
    num_layers: 8,
    hidden_size: 64,
    num_attention_heads: 4,
    seq_length: 32,
    train_micro_batch_size_per_gpu: 2,
    gradient_accumulation_steps: 8,
    train_batch_size: 16,
    global_num_gpus: null,
    tokenizer_type: 'CharLevelTokenizer',
  };

  it('maps NeoX keys, with NeoX defaults, and the tokenizer size as the vocabulary', () => {
    const { input: i } = planInputFromConfig(config, {
      world: 16,
      sources: { train_micro_batch_size_per_gpu: 'a.yml', gradient_accumulation_steps: 'a.yml' },
    });
    expect(i).toMatchObject({
      world: 16,
      tp: 2,
      pipeParallelSize: 4,
      vocabSize: 256,
      makeVocabSizeDivisibleBy: 128,
      posEmb: 'learned',
      tiedEmbeddings: true,
      partitionMethod: 'type:transformer',
    });
    expect(i.trainBatchSize).toBeUndefined(); // derived by the loader for another DP size
    expect(makePlan(i).train_batch_size).toBe(32);
  });

  it('takes the world from global_num_gpus, or from dp replicas', () => {
    expect(planInputFromConfig({ ...config, global_num_gpus: 24 }).input.world).toBe(24);
    expect(planInputFromConfig(config, { dp: 3 }).input.world).toBe(24);
  });

  it('fails clearly on a missing world, unknown tokenizer and wrong types', () => {
    expect(() => planInputFromConfig(config)).toThrow(
      'the world size is unknown: pass --world N or set global_num_gpus',
    );
    expect(() => planInputFromConfig({ ...config, tokenizer_type: 'SPMTokenizer' }, { world: 16 })).toThrow(
      'tokenizer_type "SPMTokenizer" has no known vocabulary size: pass --vocab-size N',
    );
    expect(() => planInputFromConfig({ ...config, hidden_size: '64' }, { world: 16 })).toThrow(
      'hidden_size must be a number, got "64"',
    );
    expect(() => planInputFromConfig({ ...config, num_layers: undefined }, { world: 16 })).toThrow(
      'num_layers is required to plan a run',
    );
  });

  it('reads num_layers_per_virtual_pipeline_stage as Megatron does: v = layers per stage ÷ layers per chunk', () => {
    const chunked = { ...config, num_layers_per_virtual_pipeline_stage: 1 };
    const p = makePlan(planInputFromConfig(chunked, { world: 16 }).input);
    expect(p.virtualChunks).toBe(2);
    expect(p.stages[0].chunks).toEqual([
      [0, 1],
      [4, 5],
    ]);
    expect(
      planInputFromConfig({ ...config, num_layers_per_virtual_pipeline_stage: 2 }, { world: 16 }).input,
    ).toMatchObject({ virtualChunks: 1 });
    expect(() => planInputFromConfig({ ...config, num_layers_per_virtual_pipeline_stage: 3 }, { world: 16 })).toThrow(
      'num_layers (8) must split into pipe_parallel_size (4) stages of a multiple of num_layers_per_virtual_pipeline_stage (3) layers',
    );
    expect(() =>
      makePlan(planInputFromConfig({ ...chunked, gradient_accumulation_steps: 6 }, { world: 16 }).input),
    ).toThrow('needs gradient_accumulation_steps (6) to be a multiple of pipe_parallel_size (4)');
  });

  it('counts only computes in ops', () => {
    const p = makePlan(planInputFromConfig(config, { world: 16 }).input);
    expect(planJson(p).schedule[0].ops).toHaveLength(p.stages[0].schedule.filter(isCompute).length);
  });
});

describe('the plan says what training does', () => {
  const neox = {
    num_layers: 4,
    hidden_size: 64,
    num_attention_heads: 4,
    seq_length: 32,
    train_iters: 10,
    train_micro_batch_size_per_gpu: 2,
    global_num_gpus: 4,
    model_parallel_size: 2,
    checkpoint_activations: true,
    tokenizer_type: 'CharLevelTokenizer',
    optimizer: { type: 'Adam', params: { lr: 0.001 } },
  };
  const planned = (change: Record<string, unknown>) => {
    const resolved = resolveConfig([{ file: 'run.yml', data: { ...neox, ...change } }]);
    const made = planFromConfig(resolved.config, { sources: resolved.sources });
    return { ...made, configWarnings: resolved.warnings };
  };

  it('partition_activations is warned ignored and leaves the memory plan as it is', () => {
    const off = planned({});
    const on = planned({ partition_activations: true });
    expect(on.configWarnings).toEqual([
      'run.yml: partition_activations is a NeoX key that tabtron does not implement yet; ignored (value true)',
    ]);
    expect(on.plan.stages.map((s) => s.memory)).toEqual(off.plan.stages.map((s) => s.memory));
    expect(on.plan.stages[0].memory.activations).toBeGreaterThan(0);
  });

  it('sequence_parallel: the plan says it runs, and each rank keeps fewer activations', () => {
    const off = planned({ checkpoint_activations: false });
    const on = planned({ checkpoint_activations: false, sequence_parallel: true });
    expect(on.configWarnings).toEqual([]);
    expect(on.plan.sequenceParallel).toBe(true);
    expect(planJson(on.plan).sequence_parallel).toBe(true);
    expect(renderPlanText(on.plan, on.warnings)).toContain(
      'sequence     parallel over TP 2: norms, dropout and residuals on seq_length / 2 positions per rank',
    );
    expect(on.plan.stages[0].memory.activations).toBeLessThan(off.plan.stages[0].memory.activations);
    expect(on.plan.stages[0].memory.params).toBe(off.plan.stages[0].memory.params);
    const oneRank = planned({ sequence_parallel: true, model_parallel_size: 1, global_num_gpus: 2 });
    expect(oneRank.plan.sequenceParallel).toBe(false);
  });

  it('fp16 / bf16: the plan says what is kept in 16 bits, and counts it', () => {
    const f32 = planned({ checkpoint_activations: false });
    const bf16 = planned({ checkpoint_activations: false, bf16: { enabled: true } });
    expect(planJson(f32.plan).precision).toBeNull();
    expect(planJson(bf16.plan).precision).toEqual({
      format: 'bf16',
      half_storage: { weights: true, activations: true },
    });
    const [a, b] = [f32, bf16].map((p) => p.plan.stages[0].memory);
    expect(b.params).toBe(a.params + b.halfWeights + b.window); // f32 master + packed copy + window
    expect(b.activations).toBeLessThan(a.activations);
    expect(renderPlanText(bf16.plan, bf16.warnings)).toContain(
      'stages (memory per rank, bf16 weights and activations, the rest f32, ZeRO stage 0)',
    );
    // with recompute the chunk inputs (but the first) are packed and two shared f32 ones added: from
    // four chunks on that is less; ZeRO-3 keeps f32 weights: the plan counts what runs
    const recompute = planned({ fp16: { enabled: true }, num_layers: 12 }).plan;
    expect(recompute.half).toEqual({ format: 'fp16', storage: { weights: true, activations: true } });
    const f32Recompute = planned({ num_layers: 12 }).plan.stages[0].memory.activations;
    expect(recompute.stages[0].memory.activations).toBeLessThan(f32Recompute);
    const zero3 = planned({ fp16: { enabled: true }, zero_optimization: { stage: 3 }, checkpoint_activations: false });
    expect(zero3.plan.half!.storage).toEqual({ weights: false, activations: true });
    expect(zero3.plan.stages[0].memory.halfWeights).toBe(0);
    const off = planned({ bf16: { enabled: true }, half_storage: { weights: false, activations: false } }).plan;
    expect(off.stages[0].memory).toEqual(planned({}).plan.stages[0].memory);
  });

  it('ZeRO stages 2 and 3 shard gradients, then parameters, and the text and JSON say so', () => {
    const one = planned({ zero_optimization: { stage: 1 } });
    const zero = planned({});
    const [m0, m1] = [zero, one].map((p) => p.plan.stages[0].memory);
    expect(m1.optimizer).toBe(m0.optimizer / 2); // DP 2
    const two = planned({ zero_optimization: { stage: 2 } }).plan.stages[0].memory;
    expect(two.params).toBe(m1.params);
    expect(two.grads).toBe(m1.grads / 2 + two.window);
    const three = planned({ zero_optimization: { stage: 3 } });
    const m3 = three.plan.stages[0].memory;
    expect(m3.params).toBe(m1.params / 2 + m3.window);
    expect(m3.grads).toBe(two.grads);
    expect(m3.window).toBeGreaterThan(0);
    for (const stage of [1, 2, 3]) {
      const p = planned({ zero_optimization: { stage } });
      expect(planJson(p.plan).zero_optimization).toEqual({ stage, stage_run: stage });
      expect(p.warnings).toEqual([]);
      expect(p.configWarnings).toEqual([]);
      expect(renderPlanText(p.plan)).toContain(`stages (memory per rank, f32, ZeRO stage ${stage})`);
    }
    const text = renderPlanText(three.plan);
    expect(text).toContain("ZeRO         stage 3: Adam's m and v, the gradients and the parameters sharded over DP 2");
    expect(text).toContain("each layer's parameters are all-gathered into a one-layer window just before its forward");
    expect(text).toContain('ZeRO-3: params and grads each include a window (embedding/final norm/head + one layer)');
    expect(renderPlanText(zero.plan)).toContain('ZeRO         stage 0: no sharding');
    // one replica: nothing to shard
    const alone = planned({ zero_optimization: { stage: 3 }, global_num_gpus: 2 });
    expect(planJson(alone.plan).zero_optimization).toEqual({ stage: 3, stage_run: 0 });
    expect(renderPlanText(alone.plan)).toContain('ZeRO         stage 3 runs as stage 0 (DP 1: nothing to shard)');
  });
});
