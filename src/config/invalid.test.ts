// Invalid configs: each must fail with a message naming the key(s), the file and the rule.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfigText, resolveConfig } from './index';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const FILE = 'configs/x.yml';

const valid = {
  num_layers: 2,
  hidden_size: 64,
  num_attention_heads: 4,
  seq_length: 32,
  max_position_embeddings: 32,
  pos_emb: 'rotary',
  train_iters: 10,
  train_micro_batch_size_per_gpu: 2,
  optimizer: { type: 'Adam', params: { lr: 0.0006, betas: [0.9, 0.95], eps: 1e-8 } },
};

function failure(data: Record<string, unknown>): ConfigError {
  try {
    resolveConfig([{ file: FILE, data }]);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(data)} to be rejected`);
}

const withParams = (params: Record<string, unknown>) => ({
  optimizer: { type: 'Adam', params: { ...valid.optimizer.params, ...params } },
});

// [what, change to the valid config (undefined removes a key), expected message fragment]
const cases: Array<[string, Record<string, unknown>, string]> = [
  [
    'heads do not divide hidden',
    { hidden_size: 100, num_attention_heads: 12 },
    'hidden_size (100) must be divisible by num_attention_heads (12)',
  ],
  [
    'positions shorter than sequence',
    { seq_length: 2048, max_position_embeddings: 1024 },
    'max_position_embeddings (1024) must be >= seq_length (2048)',
  ],
  ['min_lr above lr', { min_lr: 0.1 }, 'min_lr (0.1) must be <= lr (0.0006)'],
  ['misspelled key', { hiden_size: 64 }, 'unknown key "hiden_size" in configs/x.yml (did you mean "hidden_size"?)'],
  [
    'misspelled dashed key',
    { 'num-atention-heads': 4 },
    'unknown key "num-atention-heads" in configs/x.yml (did you mean "num_attention_heads"?)',
  ],
  ['word for a number', { num_layers: 'twelve' }, 'num_layers must be an integer, got "twelve"'],
  ['fractional layer count', { num_layers: 2.5 }, 'num_layers must be an integer, got 2.5'],
  ['negative size', { hidden_size: -64 }, 'hidden_size must be a positive integer, got -64'],
  ['zero heads', { num_attention_heads: 0 }, 'num_attention_heads must be a positive integer, got 0'],
  ['unknown norm', { norm: 'batchnorm' }, 'norm must be one of "layernorm", "rmsnorm", "scalenorm"'],
  [
    'unknown pos_emb',
    { pos_emb: 'absolute' },
    'pos_emb must be one of "learned", "rotary", "sinusoidal", "rpe", "alibi", "none", got "absolute"',
  ],
  [
    'unknown decay style',
    { lr_decay_style: 'step' },
    'lr_decay_style must be one of "constant", "linear", "cosine", "exponential", got "step"',
  ],
  ['unknown tokenizer', { tokenizer_type: 'BPE' }, 'tokenizer_type must be one of "GPT2BPETokenizer", "HFTokenizer"'],
  [
    'split with semicolons',
    { split: '90;5;5' },
    'split must be 1 to 3 comma-separated non-negative numbers with a positive train part, like "969,30,1", got "90;5;5"',
  ],
  ['split with four parts', { split: '90,5,4,1' }, 'split must be 1 to 3 comma-separated'],
  ['split without training data', { split: '0,50,50' }, 'split must be 1 to 3 comma-separated'],
  ['split as a number', { split: 969 }, 'split must be a string, got 969'],
  ['beta of 1', withParams({ betas: [0.9, 1.0] }), 'optimizer.params.betas[1] must be in [0, 1), got 1'],
  ['negative beta', withParams({ betas: [-0.1, 0.95] }), 'optimizer.params.betas[0] must be in [0, 1), got -0.1'],
  ['one beta', withParams({ betas: [0.9] }), 'optimizer.params.betas must be a list of two numbers [beta1, beta2]'],
  ['zero lr', withParams({ lr: 0 }), 'optimizer.params.lr must be a positive number, got 0'],
  [
    'unknown optimizer',
    { optimizer: { type: 'Adagrad', params: { lr: 0.1 } } },
    'optimizer.type must be one of "adam", "adamw"',
  ],
  ['hidden dropout of 1', { hidden_dropout: 1 }, 'hidden_dropout must be in [0, 1), got 1'],
  ['negative attention dropout', { attention_dropout: -0.1 }, 'attention_dropout must be in [0, 1), got -0.1'],
  ['warmup above 1', { warmup: 1.5 }, 'warmup must be in [0, 1], got 1.5'],
  ['rotary_pct of 0', { rotary_pct: 0 }, 'rotary_pct must be in (0, 1], got 0'],
  ['rotary_pct above 1', { rotary_pct: 1.5 }, 'rotary_pct must be in (0, 1], got 1.5'],
  [
    'odd rotary dimensions',
    { rotary_pct: 0.1 },
    'rotary_pct (0.1) * head size (16) gives 1 rotary dimensions; it must be a positive even number',
  ],
  ['zero train_iters', { train_iters: 0 }, 'train_iters must be a positive integer, got 0'],
  ['missing num_layers', { num_layers: undefined }, 'num_layers is required'],
  [
    'no learning rate at all',
    { optimizer: { type: 'Adam', params: {} } },
    'lr is required: set optimizer.params.lr (or a top-level lr)',
  ],
  ['string for a flag', { no_weight_tying: 'yes' }, 'no_weight_tying must be true or false, got "yes"'],
  [
    'heads not divisible by tensor parallel',
    { model_parallel_size: 3 },
    'num_attention_heads (4) must be divisible by model_parallel_size (3)',
  ],
  [
    'sequence not divisible over the TP group',
    { sequence_parallel: true, model_parallel_size: 2, seq_length: 31, max_position_embeddings: 31 },
    'sequence_parallel: seq_length (31) must be divisible by model_parallel_size (2): each TP rank holds seq_length / model_parallel_size positions',
  ],
  [
    'more stages than layers',
    { pipe_parallel_size: 4 },
    'num_layers (2) must be >= pipe_parallel_size (4): every pipeline stage needs a layer',
  ],
  [
    'GPUs not divisible by pp × tp',
    { global_num_gpus: 6, pipe_parallel_size: 2, model_parallel_size: 2 },
    'global_num_gpus (6) must be divisible by pipe_parallel_size (2) * model_parallel_size (2) = 4',
  ],
  [
    'attention_config for the wrong depth',
    { attention_config: [[['global'], 3]] },
    'attention_config covers 3 layers but num_layers is 2',
  ],
  [
    'unknown attention type',
    { attention_config: [[['dense'], 2]] },
    'attention_config[0][0][0] must be one of "global", "local"',
  ],
  [
    'attention_config entry without count',
    { attention_config: [['global']] },
    'attention_config[0] entries must look like [["global"], 12]',
  ],
  [
    'both half precisions',
    { fp16: { enabled: true }, bf16: { enabled: true } },
    'fp16.enabled and bf16.enabled cannot both be true',
  ],
  [
    'ZeRO 2 with a pipeline',
    { zero_optimization: { stage: 2 }, pipe_parallel_size: 1 },
    'zero_optimization.stage (2) >= 2 cannot be combined with pipeline parallelism',
  ],
  [
    'ZeRO stage 4',
    { zero_optimization: { stage: 4 } },
    'zero_optimization.stage must be an integer from 0 to 3, got 4',
  ],
  [
    'batch triplet that does not multiply out',
    { train_batch_size: 100, train_micro_batch_size_per_gpu: 8, gradient_accumulation_steps: 2 },
    'train_batch_size (100) must equal train_micro_batch_size_per_gpu (8) * gradient_accumulation_steps (2) * data-parallel size (1) = 16',
  ],
  [
    'no batch size',
    { train_micro_batch_size_per_gpu: undefined },
    'either train_batch_size or train_micro_batch_size_per_gpu must be set',
  ],
  [
    'save_interval against checkpoint_factor',
    { save_interval: 100, checkpoint_factor: 200 },
    'save_interval (100) and checkpoint_factor (200) disagree',
  ],
  [
    'bad partition method',
    { pipe_partition_method: 'random' },
    'pipe_partition_method must be "parameters", "uniform" or "type:<regex>", got "random"',
  ],
  [
    'virtual stages on one stage',
    { num_layers_per_virtual_pipeline_stage: 1 },
    'num_layers_per_virtual_pipeline_stage (1) needs pipe_parallel_size >= 2, got 0',
  ],
  ['optimizer as a string', { optimizer: 'adam' }, 'optimizer must be a mapping of keys to values, got "adam"'],
  [
    'train_data_paths alone',
    { train_data_paths: ['data/a_text_document'] },
    'train_data_paths is set without valid_data_paths and test_data_paths: give all three, or data_path alone',
  ],
  [
    'a weight short',
    {
      train_data_paths: ['a', 'b'],
      valid_data_paths: ['a'],
      test_data_paths: ['b'],
      train_data_weights: [1],
    },
    'train_data_weights has 1 entries but train_data_paths has 2: one weight per dataset',
  ],
  ['data paths as a string', { valid_data_paths: 'data/a' }, 'valid_data_paths must be a list of dataset paths'],
  ['negative data weight', { train_data_weights: [1, -2] }, 'train_data_weights[1] must be a number >= 0, got -2'],
];

describe('invalid configs', () => {
  it('has at least 20 cases', () => expect(cases.length).toBeGreaterThanOrEqual(20));

  it.each(cases)('%s', (_what, change, fragment) => {
    const data: Record<string, unknown> = { ...valid, ...change };
    for (const [k, v] of Object.entries(change)) if (v === undefined) delete data[k];
    const e = failure(data);
    expect(e.message).toContain(fragment);
    // every key-specific message names the file the key came from (required keys were set nowhere)
    const issue = e.issues.find((i) => i.message.includes(fragment))!;
    if (!/is required|must be set/.test(fragment)) expect(issue.message).toContain(FILE);
  });

  it('collects all errors of a file, not just the first', () => {
    let e: unknown;
    try {
      loadConfig([`${FIXTURES}bad.yml`]);
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(ConfigError);
    const messages = (e as ConfigError).issues.map((i) => i.message);
    expect(messages).toHaveLength(4);
    expect(messages.join('\n')).toContain('unknown key "hiden-size" in');
    expect(messages.join('\n')).toContain('num_layers must be an integer, got "twelve"');
    expect(messages.join('\n')).toContain('hidden_size (100) must be divisible by num_attention_heads (12)');
    expect(messages.join('\n')).toContain('max_position_embeddings (1024) must be >= seq_length (2048)');
    expect(messages.every((m) => m.includes('bad.yml'))).toBe(true);
  });

  it('names the file of each key when several files merge', () => {
    const e = (() => {
      try {
        resolveConfig([
          { file: 'model.yml', data: { ...valid, hidden_size: 100 } },
          { file: 'heads.yml', data: { num_attention_heads: 12 } },
        ]);
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('expected an error');
    })();
    expect(e.message).toContain(
      'model.yml, heads.yml: hidden_size (100) must be divisible by num_attention_heads (12)',
    );
  });

  it('reports YAML syntax errors with file, line and column', () => {
    expect(() => loadConfig([`${FIXTURES}syntax-error.yml`])).toThrow(/syntax-error\.yml:\d+:\d+: Flow/);
  });

  it('rejects a file whose top level is not a mapping', () => {
    expect(() => parseConfigText('- 1\n- 2\n', 'list.yml')).toThrow(
      'list.yml: a config must be a mapping of keys to values, got a list',
    );
  });

  it('rejects in-memory data that is not a mapping', () => {
    expect(() => resolveConfig([{ file: 'form', data: null as unknown as Record<string, unknown> }])).toThrow(
      'form: a config must be a mapping of keys to values, got null',
    );
  });

  it('rejects duplicate keys in one file', () => {
    expect(() => parseConfigText('{ "seed": 1, "seed": 2 }', 'dup.yml')).toThrow(
      /dup\.yml:1:\d+: Map keys must be unique/,
    );
  });

  it('names a missing file', () => {
    expect(() => loadConfig([`${FIXTURES}nope.yml`])).toThrow('nope.yml: cannot read config file (no such file)');
  });
});
