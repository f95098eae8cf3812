// Merging, dash/underscore equivalence, defaults and derived values.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { batchForDataParallel, ConfigError, loadConfig, parseConfigText, resolveConfig } from './index';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

const minimal = {
  num_layers: 2,
  hidden_size: 64,
  num_attention_heads: 4,
  seq_length: 32,
  train_iters: 10,
  optimizer: { type: 'Adam', params: { lr: 0.001 } },
  train_micro_batch_size_per_gpu: 2,
};

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('merging config files', () => {
  const { config, sources } = loadConfig([`${FIXTURES}base.yml`, `${FIXTURES}override.yml`]);

  it('lets the later file win, whichever spelling each file uses', () => {
    expect(config.hidden_size).toBe(256);
    expect(config.seq_length).toBe(256);
    expect(sources.hidden_size).toBe(`${FIXTURES}override.yml`);
    expect(config.num_layers).toBe(4);
    expect(sources.num_layers).toBe(`${FIXTURES}base.yml`);
  });

  it('replaces a nested dict whole, as NeoX does (top-level keys replace)', () => {
    expect(config.lr).toBe(0.001);
    // base.yml's betas [0.9, 0.95] are gone with its optimizer block: Adam's default applies.
    expect(config.optimizer.params.betas).toEqual([0.9, 0.999]);
    expect(config.optimizer.type).toBe('Adam');
  });

  it('treats a null value as unset, so the default applies again', () => {
    expect(config.hidden_dropout).toBe(0.1);
    expect(sources.hidden_dropout).toBeUndefined();
  });

  it('applies overrides after the files', () => {
    const r = loadConfig([`${FIXTURES}base.yml`], { 'num-layers': 8 });
    expect(r.config.num_layers).toBe(8);
    expect(r.sources.num_layers).toBe('overrides');
  });
});

describe('dash and underscore keys', () => {
  it('reads hidden-size and hidden_size as the same key', () => {
    const dashed = resolveConfig([
      parseConfigText(
        '{"num-layers": 2, "hidden-size": 64, "num-attention-heads": 4, "seq-length": 32, "train-iters": 10, "lr": 0.001, "train-micro-batch-size-per-gpu": 2}',
        'd.yml',
      ),
    ]);
    const underscored = resolveConfig([{ file: 'u.yml', data: { ...minimal, optimizer: undefined, lr: 0.001 } }]);
    expect(dashed.config).toEqual(underscored.config);
  });

  it('rejects the same key in both spellings in one file, naming both', () => {
    const e = errorOf(() => loadConfig([`${FIXTURES}dup-spelling.yml`]));
    expect(e.message).toContain('"hidden-size" and "hidden_size" are the same key');
    expect(e.message).toContain('dup-spelling.yml');
  });
});

describe('defaults (NeoX reference values)', () => {
  const { config, warnings } = resolveConfig([{ file: 'min.yml', data: minimal }]);

  it('fills every key the user left out', () => {
    expect(config).toMatchObject({
      pipe_parallel_size: 0,
      model_parallel_size: 1,
      pipe_partition_method: 'type:transformer',
      norm: 'layernorm',
      layernorm_epsilon: 1e-5,
      rms_norm_epsilon: 1e-8,
      pos_emb: 'learned',
      rotary_pct: 1,
      rotary_emb_base: 10000,
      no_weight_tying: false,
      make_vocab_size_divisible_by: 128,
      init_method: 'normal',
      output_layer_init_method: 'scaled_normal',
      init_method_std: 0.02,
      gpt_j_residual: false,
      hidden_dropout: 0.1,
      attention_dropout: 0.1,
      weight_decay: 0.01,
      gradient_clipping: 0,
      min_lr: 0,
      lr_decay_style: 'linear',
      warmup: 0.01,
      seed: 1234,
      split: '969, 30, 1',
      eval_interval: 1000,
      eval_iters: 100,
      checkpoint_activations: false,
      checkpoint_num_layers: 1,
      tokenizer_type: 'GPT2BPETokenizer',
      data_path: null,
      save: null,
      load: null,
      checkpoint_factor: null,
      save_interval: null,
      zero_optimization: { stage: 0 },
    });
    expect(warnings).toEqual([]);
  });

  it('derives what NeoX derives', () => {
    expect(config.intermediate_size).toBe(4 * 64);
    expect(config.max_position_embeddings).toBe(32);
    expect(config.lr_decay_iters).toBe(10);
    expect(config.lr).toBe(0.001);
    expect(config.optimizer_type).toBe('adam');
    expect(config.optimizer.params).toMatchObject({ lr: 0.001, betas: [0.9, 0.999], eps: 1e-8 });
    expect(config.precision).toBe('fp32');
    expect(config.attention_config).toEqual(['global', 'global']);
    expect(config.padded_vocab_size).toBe(50304);
    expect([
      config.train_batch_size,
      config.train_micro_batch_size_per_gpu,
      config.gradient_accumulation_steps,
    ]).toEqual([2, 2, 1]);
  });

  it('takes lr from the top level when the optimizer block has none, and syncs both', () => {
    const r = resolveConfig([
      { file: 'x.yml', data: { ...minimal, optimizer: { type: 'AdamW', params: {} }, lr: 0.003 } },
    ]);
    expect(r.config.lr).toBe(0.003);
    expect(r.config.optimizer.params.lr).toBe(0.003);
    expect(r.config.optimizer_type).toBe('adamw');
  });

  it('keeps save_interval and checkpoint_factor as one setting', () => {
    const r = resolveConfig([{ file: 'x.yml', data: { ...minimal, save_interval: 50 } }]);
    expect([r.config.checkpoint_factor, r.config.save_interval]).toEqual([50, 50]);
  });

  it('derives the batch for global_num_gpus / (pp × tp) data-parallel replicas, and again for a run-time size', () => {
    const r = resolveConfig([{ file: 'x.yml', data: { ...minimal, global_num_gpus: 8, model_parallel_size: 2 } }]);
    expect(r.config.train_batch_size).toBe(2 * 1 * 4);
    expect(batchForDataParallel(r, 3)).toEqual({
      train_batch_size: 6,
      train_micro_batch_size_per_gpu: 2,
      gradient_accumulation_steps: 1,
    });
  });

  it('pads the char-level vocabulary (256) to the divisor × model-parallel size', () => {
    const r = resolveConfig([
      {
        file: 'x.yml',
        data: {
          ...minimal,
          tokenizer_type: 'CharLevelTokenizer',
          make_vocab_size_divisible_by: 100,
          model_parallel_size: 2,
        },
      },
    ]);
    expect(r.config.padded_vocab_size).toBe(400);
  });
});

describe('the project configs', () => {
  it.each(['configs/tiny.yml', 'configs/small-gpt2.yml'])('%s loads without warnings and sets no data_path', (file) => {
    const { config, warnings } = loadConfig([REPO + file]);
    expect(warnings).toEqual([]);
    expect(config.data_path).toBeNull();
    expect(config.precision).toBe('fp32');
  });

  it('tiny.yml is a small char-level rotary GPT', () => {
    const { config } = loadConfig([`${REPO}configs/tiny.yml`]);
    expect(config).toMatchObject({
      num_layers: 2,
      hidden_size: 64,
      num_attention_heads: 4,
      seq_length: 64,
      pos_emb: 'rotary',
      norm: 'layernorm',
      hidden_dropout: 0,
      attention_dropout: 0,
      tokenizer_type: 'CharLevelTokenizer',
      train_iters: 60,
      eval_interval: 20,
      eval_iters: 4,
      lr: 1e-3,
      padded_vocab_size: 256,
    });
  });

  it('small-gpt2.yml uses the GPT-2 BPE tokenizer', () => {
    const { config } = loadConfig([`${REPO}configs/small-gpt2.yml`]);
    expect(config.tokenizer_type).toBe('GPT2BPETokenizer');
    expect(config.padded_vocab_size).toBe(50304);
  });
});
