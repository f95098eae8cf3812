// For tests: a NeoX config of a tiny GPT (2 layers, hidden 32, 4 heads, character vocabulary, Adam),
// resolved as a user's YAML would be, a Trainer over it with initialized weights, and micro-batches
// of fixed token patterns (distinct per salt, so consecutive steps see different data).
import { resolveConfig } from '../config/resolve';
import type { Tokenizer } from '../data/tokenizer';
import type { GpuContext } from '../gpu/context';
import { initFlat } from '../model/init';
import type { ModelSpec } from '../model/spec';
import { adamHyper, lrSchedule, modelSpec, type TrainConfig } from './setup';
import { type MicroBatch, Trainer, type TrainerOptions } from './trainer';

export function tinyConfig(change: Record<string, unknown> = {}): TrainConfig {
  return resolveConfig([
    {
      file: 'test',
      data: {
        num_layers: 2,
        hidden_size: 32,
        num_attention_heads: 4,
        seq_length: 16,
        train_micro_batch_size_per_gpu: 2,
        tokenizer_type: 'CharLevelTokenizer',
        optimizer: { type: 'Adam', params: { lr: 3e-3 } },
        ...change,
      },
    },
  ]).config as unknown as TrainConfig;
}

/** A Trainer of config `c` (micro batch from it, vocabulary 256) with the seed's initial weights. */
export function tinyTrainer(
  ctx: GpuContext,
  c: TrainConfig,
  options: Partial<TrainerOptions> & { gradAccumSteps: number },
): Trainer {
  const spec = modelSpec(c, { vocabSize: 256 } as Tokenizer);
  const t = new Trainer(ctx, {
    spec,
    microBatchSize: c.train_micro_batch_size_per_gpu ?? 1,
    adam: adamHyper(c),
    schedule: lrSchedule(c),
    ...options,
  });
  t.loadParams(initFlat(t.model.layout, c.seed));
  return t;
}

/** micro × T tokens of a fixed pattern; targets a shifted pattern */
export function patternBatch(spec: ModelSpec, micro: number, salt: number): MicroBatch {
  const N = micro * spec.T;
  return {
    tokens: Int32Array.from({ length: N }, (_, i) => (i * 37 + salt * 11 + ((i * i) % 7)) % spec.V),
    targets: Int32Array.from({ length: N }, (_, i) => (i * 37 + salt * 11 + 1) % spec.V),
  };
}
