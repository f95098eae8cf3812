// The local_sgd and pipe_compression blocks: DiLoCo's defaults, every bad value named by its
// dotted key and file, cross-key rules, and a warning while the training loop does not apply them.

import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText, resolveConfig } from './index';

const base = {
  num_layers: 2,
  hidden_size: 64,
  num_attention_heads: 4,
  seq_length: 32,
  train_iters: 10,
  train_micro_batch_size_per_gpu: 2,
  optimizer: { type: 'Adam', params: { lr: 0.001 } },
};
const FILE = 'wan.yml';

const resolve = (change: Record<string, unknown>) => resolveConfig([{ file: FILE, data: { ...base, ...change } }]);

function problems(change: Record<string, unknown>): string {
  try {
    resolve(change);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(change)} to be rejected`);
}

describe('local_sgd', () => {
  it('is off (null) unless the block is given; the pipeline sends f32 by default', () => {
    const { config, warnings } = resolve({});
    expect(config.local_sgd).toBeNull();
    expect(config.pipe_compression).toEqual({ activations: 'none', gradients: 'none' });
    expect(warnings).toEqual([]);
  });

  it("fills DiLoCo's defaults into an empty block: H = 500, Nesterov lr 0.7 momentum 0.9, f32 on the wire", () => {
    expect(resolve({ local_sgd: {} }).config.local_sgd).toEqual({
      inner_steps: 500,
      outer_optimizer: { type: 'nesterov', lr: 0.7, momentum: 0.9 },
      compression: { type: 'none', block_size: 256, error_feedback: true },
      streaming: { fragments: 1, overlap_steps: 0, mix: 0.5 },
    });
  });

  it('reads a NeoX-style YAML block and keeps the defaults of what it leaves out', () => {
    const raw = parseConfigText(
      `local-sgd:\n  inner_steps: 50\n  outer_optimizer: {lr: 0.5}\n  compression: {type: int8}\n`,
      FILE,
    );
    const { config } = resolveConfig([{ file: 'base.yml', data: base }, raw]);
    expect(config.local_sgd).toMatchObject({
      inner_steps: 50,
      outer_optimizer: { type: 'nesterov', lr: 0.5, momentum: 0.9 },
      compression: { type: 'int8', block_size: 256, error_feedback: true },
    });
  });

  it.each([
    [{ local_sgd: { inner_steps: 0 } }, 'wan.yml: local_sgd.inner_steps must be a positive integer, got 0'],
    [{ local_sgd: { inner_steps: 2.5 } }, 'local_sgd.inner_steps must be an integer, got 2.5'],
    [
      { local_sgd: { outer_optimizer: { type: 'adam' } } },
      'local_sgd.outer_optimizer.type must be one of "nesterov", "sgd", got "adam"',
    ],
    [{ local_sgd: { outer_optimizer: { lr: -1 } } }, 'local_sgd.outer_optimizer.lr must be a positive number, got -1'],
    [
      { local_sgd: { outer_optimizer: { momentum: 1 } } },
      'local_sgd.outer_optimizer.momentum must be in [0, 1), got 1',
    ],
    [
      { local_sgd: { compression: { type: 'int4' } } },
      'local_sgd.compression.type must be one of "none", "int8", got "int4"',
    ],
    [
      { local_sgd: { compression: { block_size: 4 } } },
      'local_sgd.compression.block_size must be an integer from 8 to 1048576, got 4',
    ],
    [{ local_sgd: { streaming: { mix: 2 } } }, 'local_sgd.streaming.mix must be in [0, 1], got 2'],
    [{ local_sgd: 'diloco' }, 'local_sgd must be a mapping of keys to values, got "diloco"'],
    [
      { local_sgd: { inner_step: 5 } },
      'local_sgd has unknown key "inner_step" (did you mean "inner_steps"?); its keys are inner_steps, outer_optimizer, compression, streaming',
    ],
    [{ local_sgd: { outer_optimizer: { moment: 0.5 } } }, 'local_sgd.outer_optimizer has unknown key "moment"'],
    [
      { pipe_compression: { activations: 'bf16' } },
      'pipe_compression.activations must be one of "none", "fp16", "int8", got "bf16"',
    ],
    [
      { local_sgd: {}, zero_optimization: { stage: 1 } },
      'local_sgd needs every data-parallel replica to keep its own optimizer state, but zero_optimization.stage (1) shards it',
    ],
    [
      { local_sgd: { inner_steps: 4, streaming: { fragments: 5 } } },
      'local_sgd.streaming.fragments (5) must be <= local_sgd.inner_steps (4)',
    ],
    [
      { local_sgd: { inner_steps: 10, streaming: { fragments: 2, overlap_steps: 5 } } },
      'local_sgd.streaming.overlap_steps (5) * fragments (2) must be < inner_steps (10)',
    ],
  ])('rejects %j naming the key', (change, message) => {
    expect(problems(change)).toContain(message);
  });

  it('reports every bad key of the block at once', () => {
    const text = problems({ local_sgd: { inner_steps: -1, outer_optimizer: { lr: 0 } } });
    expect(text).toContain('local_sgd.inner_steps');
    expect(text).toContain('local_sgd.outer_optimizer.lr');
  });

  it('draws no warning: the training loop applies both keys', () => {
    expect(resolve({ local_sgd: { inner_steps: 20 }, pipe_compression: { activations: 'int8' } }).warnings).toEqual([]);
  });
});
