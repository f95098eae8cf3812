// `tabtron plan`'s parameter, gradient and Adam bytes per rank (src/parallel/memory.ts, counted from
// tensor shapes) against the buffers the trainer would allocate for the same place (the model's
// flat layout, the ZeRO padding and window): equal to the byte, for TP, PP, tied and untied
// embeddings, learned positions, rmsnorm and every ZeRO stage. e2e/layouts.spec.ts measures the
// real allocations of a few of these on WebGPU.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve';
import type { Tokenizer } from '../data/tokenizer';
import { layoutParams, stageParamDefs } from '../model/params';
import { paramWindow } from '../model/param-window';
import { configuredLayout, planFor } from './elastic/layout';
import { modelSpec, type TrainConfig } from './setup';
import { zeroFlatLength } from './trainer';

const base = {
  num_layers: 4,
  hidden_size: 32,
  num_attention_heads: 4,
  seq_length: 16,
  train_micro_batch_size_per_gpu: 1,
  train_iters: 10,
  tokenizer_type: 'CharLevelTokenizer',
  optimizer: { type: 'Adam', params: { lr: 1e-3 } },
};

const cases: { name: string; world: number; settings: Record<string, unknown> }[] = [
  { name: 'DP2, tied', world: 2, settings: {} },
  {
    name: 'TP2×DP2, untied, learned positions',
    world: 4,
    settings: { model_parallel_size: 2, no_weight_tying: true, pos_emb: 'learned' },
  },
  { name: 'DP4, rmsnorm', world: 4, settings: { norm: 'rmsnorm' } },
  { name: 'PP2×DP2, tied', world: 4, settings: { pipe_parallel_size: 2, gradient_accumulation_steps: 2 } },
  {
    name: 'PP4, untied',
    world: 4,
    settings: { pipe_parallel_size: 4, gradient_accumulation_steps: 4, no_weight_tying: true },
  },
];

describe('plan memory = what the trainer allocates', () => {
  for (const { name, world, settings } of cases) {
    it(name, () => {
      for (const stage of [0, 1, 2, 3]) {
        // (ZeRO-2/3 with a pipeline is refused by the config, as by DeepSpeed)
        if (stage >= 2 && settings.pipe_parallel_size) continue;
        const data = { ...base, ...settings, zero_optimization: { stage } };
        const c = resolveConfig([{ file: 'test', data }]).config as unknown as TrainConfig;
        const plan = planFor(c, configuredLayout(c, world));
        const spec = modelSpec(c, { vocabSize: 256 } as Tokenizer);
        const zero = plan.dp > 1 ? stage : 0;
        for (const s of plan.stages) {
          const range = {
            firstLayer: s.layers[0],
            endLayer: s.layers[1],
            hasEmbedding: s.stage === 0,
            hasHead: s.stage === plan.pp - 1,
          };
          const layout = layoutParams(stageParamDefs(spec, range, plan.tp));
          const flat = zero >= 1 ? zeroFlatLength(layout.total, plan.dp) : layout.total;
          const shard = zero >= 1 ? flat / plan.dp : flat;
          const window = paramWindow(layout).length;
          const what = `ZeRO-${stage}, stage ${s.stage}`;
          expect(s.memory.params, `${what}: parameters`).toBe(4 * (zero >= 3 ? shard + window : flat));
          expect(s.memory.grads, `${what}: gradients`).toBe(4 * (zero >= 2 ? shard + window : flat));
          expect(s.memory.optimizer, `${what}: Adam`).toBe(4 * 2 * shard);
          expect(s.memory.window, `${what}: window`).toBe(zero >= 2 ? 4 * window : 0);
        }
      }
    });
  }
});
