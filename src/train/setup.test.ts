// adamHyper reads a resolved NeoX config as training uses it.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/index';
import { adamHyper, type TrainConfig } from './setup';

const base = {
  num_layers: 2,
  hidden_size: 64,
  num_attention_heads: 4,
  seq_length: 32,
  train_iters: 10,
  train_micro_batch_size_per_gpu: 2,
  gradient_clipping: 0.5,
};

const resolve = (data: Record<string, unknown>) => resolveConfig([{ file: 'run.yml', data: { ...base, ...data } }]);

describe('adamHyper', () => {
  it('reads betas, eps and clipping from the config', () => {
    const { config } = resolve({ optimizer: { type: 'Adam', params: { lr: 1e-3, betas: [0.8, 0.95], eps: 1e-6 } } });
    expect(adamHyper(config as unknown as TrainConfig)).toEqual({
      beta1: 0.8,
      beta2: 0.95,
      eps: 1e-6,
      weightDecay: 0.01, // NeoX's default weight_decay
      maxGradNorm: 0.5,
    });
  });

  it('decays with the top-level weight_decay; optimizer.params.weight_decay is warned about and ignored', () => {
    const r = resolve({ weight_decay: 0.1, optimizer: { type: 'Adam', params: { lr: 1e-3, weight_decay: 0.3 } } });
    expect(adamHyper(r.config as unknown as TrainConfig).weightDecay).toBe(0.1);
    expect(r.warnings).toEqual([
      'run.yml: optimizer.params.weight_decay (0.3) is ignored: NeoX applies the top-level weight_decay (0.1)',
    ]);
    const unset = resolve({ optimizer: { type: 'Adam', params: { lr: 1e-3, weight_decay: 0.3 } } });
    expect(adamHyper(unset.config as unknown as TrainConfig).weightDecay).toBe(0.01);
  });
});
