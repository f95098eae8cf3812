// What tabtron implements, in one place. A NeoX key set in a config but missing from
// IMPLEMENTED_KEYS (with a value other than NeoX's default) draws a warning naming the
// key; so does a value of an implemented key outside IMPLEMENTED_VALUES. When you
// implement a key or a value, add it here — nothing else needs to change.

export const IMPLEMENTED_KEYS: ReadonlySet<string> = new Set([
  // parallelism
  'pipe_parallel_size',
  'model_parallel_size',
  'pipe_partition_method',
  'num_layers_per_virtual_pipeline_stage',
  'global_num_gpus',
  'sequence_parallel',
  // model
  'num_layers',
  'hidden_size',
  'num_attention_heads',
  'seq_length',
  'max_position_embeddings',
  'intermediate_size',
  'norm',
  'layernorm_epsilon',
  'rms_norm_epsilon',
  'pos_emb',
  'rotary_pct',
  'rotary_emb_base',
  'no_weight_tying',
  'make_vocab_size_divisible_by',
  'activation',
  'init_method',
  'output_layer_init_method',
  'init_method_std',
  'gpt_j_residual',
  'attention_config',
  'hidden_dropout',
  'attention_dropout',
  // precision: f32, or fp16 / bf16 mixed precision (src/train/precision.ts says what is 16-bit)
  'precision',
  'fp16',
  'bf16',
  // optimizer and schedule
  'optimizer',
  'lr',
  'min_lr',
  'weight_decay',
  'gradient_clipping',
  'zero_optimization',
  'lr_decay_style',
  'lr_decay_iters',
  'warmup',
  'train_iters',
  // batch
  'train_batch_size',
  'train_micro_batch_size_per_gpu',
  'gradient_accumulation_steps',
  // activation checkpointing
  'checkpoint_activations',
  'checkpoint_num_layers',
  // data, tokenizer, evaluation, logging, checkpoints
  'data_path',
  'train_data_paths',
  'valid_data_paths',
  'test_data_paths',
  'train_data_weights',
  'valid_data_weights',
  'test_data_weights',
  'weight_by_num_documents',
  'weighted_sampler_alpha',
  'data_impl',
  'pack_impl',
  // read by NeoX's loader only for speed or file sharing: no effect on what is trained
  'mmap_warmup',
  'use_shared_fs',
  'num_workers',
  'split',
  'tokenizer_type',
  'vocab_file',
  'merge_file',
  'seed',
  'eval_interval',
  'eval_iters',
  'log_interval',
  'save',
  'load',
  'save_interval',
  'checkpoint_factor',
  // what mixed precision keeps in 16 bits in GPU memory (tabtron's own key)
  'half_storage',
  // training over slow links (tabtron's own keys)
  'local_sgd',
  'pipe_compression',
  // volunteers coming and going (tabtron's own key)
  'snapshot_interval',
  // what the admin page shows at each evaluation (tabtron's own key)
  'sample_tokens',
]);

/**
 * For implemented keys, the values tabtron implements. `optimizer_type` is the lowercased
 * `optimizer.type`; `attention_type` is each entry of `attention_config`; `zero_stage` is
 * `zero_optimization.stage`; `precision` is derived from `fp16`/`bf16` when not given.
 */
export const IMPLEMENTED_VALUES: Readonly<Record<string, readonly unknown[]>> = {
  tokenizer_type: ['GPT2BPETokenizer', 'CharLevelTokenizer'],
  optimizer_type: ['adam', 'adamw'],
  precision: ['fp32', 'fp16', 'bfloat16'],
  norm: ['layernorm', 'rmsnorm'],
  pos_emb: ['learned', 'rotary', 'none'],
  activation: ['gelu'],
  init_method: ['normal', 'scaled_normal', 'small_init', 'wang_init', 'xavier_normal', 'xavier_uniform'],
  output_layer_init_method: ['normal', 'scaled_normal', 'small_init', 'wang_init', 'xavier_normal', 'xavier_uniform'],
  // "flash" is NeoX's flash-attention kernel for exact global attention: the same math.
  attention_type: ['global', 'flash'],
  zero_stage: [0, 1, 2, 3],
  // "infer" reads the .idx magic; tabtron reads mmap datasets ("cached" is the older TNTIDX format)
  data_impl: ['infer', 'mmap'],
  pack_impl: ['packed'],
};

/** Keys inside `optimizer.params` that tabtron's Adam reads; others draw a warning. */
export const IMPLEMENTED_OPTIMIZER_PARAMS: ReadonlySet<string> = new Set(['lr', 'betas', 'eps', 'weight_decay']);

/** Keys of the DeepSpeed `fp16` / `bf16` blocks that training reads (src/train/precision.ts). */
export const IMPLEMENTED_PRECISION_KEYS: Readonly<Record<'fp16' | 'bf16', readonly string[]>> = {
  fp16: [
    'enabled',
    'loss_scale',
    'initial_scale_power',
    'loss_scale_window',
    'hysteresis',
    'consecutive_hysteresis',
    'min_loss_scale',
  ],
  bf16: ['enabled'],
};

/** Vocabulary size of each tokenizer tabtron ships (CharLevelTokenizer: bytes 0..255). */
export const TOKENIZER_VOCAB_SIZES: Readonly<Record<string, number>> = {
  GPT2BPETokenizer: 50257,
  CharLevelTokenizer: 256,
};
