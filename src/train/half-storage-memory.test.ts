// 16-bit storage (fp16 / bf16 with half_storage): what `tabtron plan` counts per rank is what the
// trainer allocates, to the byte, measured from the GPU buffers each rank creates (WebGPU through
// Dawn): parameters (f32 master + packed copy + window), gradients, Adam, activations (packed
// copies + the shared work layer), in every layout, including those that keep part in f32.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve';
import type { Tokenizer } from '../data/tokenizer';
import { sharedTestContext } from '../gpu/test-context';
import { SwitchableComm } from './elastic/halt';
import { configuredLayout, planFor } from './elastic/layout';
import { RankModel } from './elastic/rank-model';
import { modelSpec, type TrainConfig } from './setup';

const base = {
  num_layers: 3,
  hidden_size: 32,
  num_attention_heads: 4,
  seq_length: 16,
  train_micro_batch_size_per_gpu: 2,
  gradient_accumulation_steps: 2,
  train_iters: 4,
  tokenizer_type: 'CharLevelTokenizer',
  optimizer: { type: 'Adam', params: { lr: 1e-3 } },
  hidden_dropout: 0,
  attention_dropout: 0,
};

const bf16 = { bf16: { enabled: true } };
const fp16 = { fp16: { enabled: true } };
const interleaved = {
  num_layers: 4,
  pipe_parallel_size: 2,
  num_layers_per_virtual_pipeline_stage: 1,
  gradient_accumulation_steps: 4,
};

const cases: { name: string; world: number; settings: Record<string, unknown>; stored: [boolean, boolean] }[] = [
  { name: 'one rank, bf16', world: 1, settings: bf16, stored: [true, true] },
  {
    name: 'one rank, fp16, weights only',
    world: 1,
    settings: { ...fp16, half_storage: { activations: false } },
    stored: [true, false],
  },
  {
    name: 'one rank, bf16, GPT-J residual, attention dropout, untied',
    world: 1,
    settings: { ...bf16, gpt_j_residual: true, attention_dropout: 0.1, no_weight_tying: true },
    stored: [true, true],
  },
  { name: 'PP2, fp16', world: 2, settings: { ...fp16, pipe_parallel_size: 2 }, stored: [true, true] },
  {
    name: 'TP2 with sequence parallelism, bf16',
    world: 2,
    settings: { ...bf16, model_parallel_size: 2, sequence_parallel: true },
    stored: [true, true],
  },
  { name: 'DP2 ZeRO-1, bf16', world: 2, settings: { ...bf16, zero_optimization: { stage: 1 } }, stored: [true, true] },
  { name: 'DP2 ZeRO-2, bf16', world: 2, settings: { ...bf16, zero_optimization: { stage: 2 } }, stored: [true, true] },
  {
    name: 'DP2 ZeRO-3, bf16: f32 weights',
    world: 2,
    settings: { ...bf16, zero_optimization: { stage: 3 } },
    stored: [false, true],
  },
  {
    name: 'one rank, bf16, recompute in chunks of 1 (packed chunk inputs)',
    world: 1,
    settings: { ...bf16, checkpoint_activations: true },
    stored: [true, true],
  },
  {
    name: 'PP2, recompute in chunks of 1 (three chunks a stage), fp16',
    world: 2,
    settings: { ...fp16, num_layers: 6, pipe_parallel_size: 2, checkpoint_activations: true },
    stored: [true, true],
  },
  // interleaved 1F1B: the activation sets are made for one model chunk, each set shared by the chunks
  {
    name: 'PP2 interleaved (two 1-layer chunks a stage), f32',
    world: 2,
    settings: interleaved,
    stored: [false, false],
  },
  { name: 'PP2 interleaved, bf16', world: 2, settings: { ...bf16, ...interleaved }, stored: [true, true] },
];

describe('16-bit storage: plan memory = what the trainer allocates', { timeout: 300_000 }, () => {
  for (const { name, world, settings, stored } of cases) {
    it(name, async () => {
      const ctx = await sharedTestContext();
      const { config } = resolveConfig([{ file: 'test', data: { ...base, ...settings } }]);
      const c = config as unknown as TrainConfig;
      const layout = configuredLayout(c, world);
      const plan = planFor(c, layout);
      expect([plan.half?.storage.weights ?? false, plan.half?.storage.activations ?? false]).toEqual(stored);
      for (let rank = 0; rank < world; rank++) {
        const spec = modelSpec(c, { vocabSize: 256 } as Tokenizer, plan.tp);
        const m = new RankModel(ctx, c, spec, layout, rank, new SwitchableComm());
        const t = m.trainer;
        expect([t.halfStorage.weights, t.halfStorage.activations]).toEqual(stored);
        const planned = plan.stages[plan.grid.coords[rank].pp].memory;
        const measured = t.memory();
        const what = `rank ${rank}`;
        expect(measured.paramBytes, `${what}: parameters`).toBe(planned.params);
        expect(measured.gradBytes, `${what}: gradients`).toBe(planned.grads);
        expect(measured.optimizerBytes, `${what}: Adam`).toBe(planned.optimizer);
        expect(measured.activationBytes, `${what}: activations`).toBe(planned.activations);
      }
    });
  }

  it('what 16-bit storage saves and costs, against the same layout in f32 (one rank, 3 layers)', () => {
    const planOf = (settings: Record<string, unknown>) => {
      const { config } = resolveConfig([{ file: 'test', data: { ...base, ...settings } }]);
      const c = config as unknown as TrainConfig;
      return planFor(c, configuredLayout(c, 1)).stages[0].memory;
    };
    const f32 = planOf({});
    const half = planOf(bf16);
    // the master stays f32, the packed copy and the one-layer window come on top
    expect(half.params).toBe(f32.params + half.halfWeights + half.window);
    expect(half.halfWeights).toBe(f32.params / 2);
    expect(half.grads).toBe(f32.grads);
    expect(half.optimizer).toBe(f32.optimizer);
    expect(half.activations).toBeLessThan(f32.activations);
  });
});
