// NeoX keys and values that tabtron does not implement yet: a warning naming the key,
// neither silence nor an error.

import { describe, expect, it } from 'vitest';
import { IMPLEMENTED_KEYS, resolveConfig } from './index';

const base = {
  num_layers: 2,
  hidden_size: 64,
  num_attention_heads: 4,
  seq_length: 32,
  train_iters: 10,
  train_micro_batch_size_per_gpu: 2,
  optimizer: { type: 'Adam', params: { lr: 0.001 } },
};

function warningsFor(change: Record<string, unknown>): string[] {
  return resolveConfig([{ file: 'run.yml', data: { ...base, ...change } }]).warnings;
}

describe('warnings for what tabtron does not implement yet', () => {
  it('gives none for a config of implemented keys', () => {
    expect(warningsFor({})).toEqual([]);
  });

  it.each([
    ['sparsity_config', { sparsity_config: { block: 16 } }],
    ['dataset_impl', { 'dataset-impl': 'pairwise' }],
    ['hostfile', { hostfile: '/job/hostfile' }],
    ['deepspeed_mpi', { deepspeed_mpi: true }],
    ['deepspeed_extra_args', { deepspeed_extra_args: { comms_logger: { enabled: true } } }],
    ['wandb_project', { wandb_project: 'mine' }],
    ['use_wandb', { use_wandb: true }],
    ['bias_gelu_fusion', { 'bias-gelu-fusion': true }],
    ['scaled_upper_triang_masked_softmax_fusion', { scaled_upper_triang_masked_softmax_fusion: true }],
    ['num_kv_heads', { num_kv_heads: 2 }],
    ['train_label_data_paths', { train_label_data_paths: ['a', 'b'] }],
  ])('names %s when it is set to a non-default value', (key, change) => {
    const warnings = warningsFor(change);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`run.yml: ${key} is a NeoX key that tabtron does not implement yet; ignored`);
  });

  it('names data values tabtron does not read, and a data_path that train/valid/test_data_paths override', () => {
    expect(warningsFor({ data_impl: 'cached' })).toEqual([
      'run.yml: data_impl "cached" is not implemented in tabtron yet (implemented: "infer", "mmap")',
    ]);
    expect(warningsFor({ 'pack-impl': 'unpacked' })).toEqual([
      'run.yml: pack_impl "unpacked" is not implemented in tabtron yet (implemented: "packed")',
    ]);
    const paths = { train_data_paths: ['a'], valid_data_paths: ['b'], test_data_paths: ['c'] };
    expect(warningsFor({ ...paths, data_impl: 'mmap', mmap_warmup: true })).toEqual([]);
    expect(warningsFor({ ...paths, data_path: 'd' })).toEqual([
      'run.yml: data_path is ignored: train/valid/test_data_paths are set, and they are what NeoX reads (NeoX itself refuses both)',
    ]);
  });

  it('stays quiet about unimplemented keys left at NeoX defaults (e.g. fusion flags set to false)', () => {
    expect(
      warningsFor({
        bias_gelu_fusion: false,
        rope_fusion: false,
        output_layer_parallelism: 'column',
        distributed_backend: 'nccl',
      }),
    ).toEqual([]);
  });

  it('fp16 and bf16 train as configured: no warning', () => {
    expect(warningsFor({ fp16: { enabled: true, loss_scale: 0, hysteresis: 2 } })).toEqual([]);
    expect(warningsFor({ bf16: { enabled: true } })).toEqual([]);
  });

  it('warns about fp16 / bf16 keys that mixed precision does not read', () => {
    expect(warningsFor({ fp16: { enabled: true, auto_cast: true } })).toEqual([
      'run.yml: fp16.auto_cast is not implemented in tabtron yet; ignored',
    ]);
    expect(warningsFor({ bf16: { enabled: true, immediate_grad_update: true } })).toEqual([
      'run.yml: bf16.immediate_grad_update is not implemented in tabtron yet; ignored',
    ]);
  });

  it('says sequence_parallel runs with TP, and has no effect without it', () => {
    expect(warningsFor({ sequence_parallel: true, model_parallel_size: 2 })).toEqual([]);
    expect(warningsFor({ sequence_parallel: true })).toEqual([
      'run.yml: sequence_parallel has no effect with model_parallel_size 1 (as in NeoX): it splits the TP group’s norm, dropout and residual work along the sequence',
    ]);
  });

  it('warns about attention_config entries other than global attention', () => {
    const warnings = warningsFor({ attention_config: [[['global', 'local'], 1]] });
    expect(warnings).toEqual([
      'run.yml: attention_config type "local" is not implemented in tabtron yet (implemented: "global", "flash")',
    ]);
  });

  it('warns about values of implemented keys outside what is implemented', () => {
    expect(warningsFor({ tokenizer_type: 'HFTokenizer' })[0]).toContain(
      'tokenizer_type "HFTokenizer" is not implemented',
    );
    expect(warningsFor({ pos_emb: 'alibi' })[0]).toContain('pos_emb "alibi" is not implemented');
    expect(warningsFor({ activation: 'swiglu' })[0]).toContain('activation "swiglu" is not implemented');
    expect(warningsFor({ zero_optimization: { stage: 1 } })).toEqual([]);
    expect(warningsFor({ zero_optimization: { stage: 2 } })).toEqual([]);
    expect(warningsFor({ zero_optimization: { stage: 3 } })).toEqual([]);
    expect(warningsFor({ optimizer: { type: 'Lion', params: { lr: 1e-4 } } })[0]).toContain(
      'optimizer.type "lion" is not implemented',
    );
  });

  it('warns about optimizer params it ignores, and about NeoX ignoring params.weight_decay', () => {
    const warnings = warningsFor({
      optimizer: { type: 'Adam', params: { lr: 0.001, max_grad_norm: 1.0, weight_decay: 0.1 } },
    });
    expect(warnings).toContain('run.yml: optimizer.params.max_grad_norm is not implemented in tabtron yet; ignored');
    expect(
      warnings.some((w) =>
        w.includes('optimizer.params.weight_decay (0.1) is ignored: NeoX applies the top-level weight_decay (0.01)'),
      ),
    ).toBe(true);
  });

  it('warns when a top-level lr is replaced by optimizer.params.lr', () => {
    expect(warningsFor({ lr: 0.5 })).toEqual(['lr (0.5) is replaced by optimizer.params.lr (0.001), as NeoX does']);
  });

  it('warns that vocab/merge files are not read for built-in tokenizers', () => {
    expect(warningsFor({ vocab_file: 'gpt2-vocab.json' })).toEqual([
      "run.yml: vocab_file is ignored: tabtron's GPT2BPETokenizer has a built-in vocabulary",
    ]);
  });

  it('keeps the implemented-key list in support.ts (modeled keys not in it warn)', () => {
    expect(IMPLEMENTED_KEYS.has('hidden_size')).toBe(true);
    expect(IMPLEMENTED_KEYS.has('scalenorm_epsilon')).toBe(false);
    expect(resolveConfig([{ file: 'run.yml', data: { ...base, scalenorm_epsilon: 1e-5 } }]).warnings[0]).toContain(
      'scalenorm_epsilon is a NeoX key that tabtron does not implement yet',
    );
    // interleaved 1F1B trains: its key draws no warning
    expect(IMPLEMENTED_KEYS.has('num_layers_per_virtual_pipeline_stage')).toBe(true);
    const data = {
      ...base,
      num_layers: 4,
      pipe_parallel_size: 2,
      num_layers_per_virtual_pipeline_stage: 1,
      gradient_accumulation_steps: 2,
    };
    expect(resolveConfig([{ file: 'run.yml', data }]).warnings).toEqual([]);
  });
});
