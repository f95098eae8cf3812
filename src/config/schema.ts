// The NeoX keys tabtron models: type, range and NeoX default of each (defaults from the
// NeoX configuration reference, shared/seeds/001_*). Keys whose default depends on
// other keys (`intermediate_size` = 4 × hidden, `lr` from `optimizer.params.lr`, the
// batch triplet, ...) are optional here and filled in by derive.ts.

import { z } from 'zod';
import { splitProblem } from './split';
import {
  bool,
  dict,
  inRange,
  int,
  intBetween,
  nonNegInt,
  nonNegNum,
  oneOf,
  posInt,
  posNum,
  str,
  strictDict,
} from './fields';
import { localSgdBlock, pipeCompressionBlock } from './local-sgd';

export const NORMS = [
  'layernorm',
  'rmsnorm',
  'scalenorm',
  'non_parametric_layernorm',
  'te_layernorm',
  'te_rmsnorm',
] as const;
export const POS_EMBS = ['learned', 'rotary', 'sinusoidal', 'rpe', 'alibi', 'none'] as const;
export const INIT_METHODS = [
  'normal',
  'scaled_normal',
  'orthogonal',
  'scaled_orthogonal',
  'xavier_uniform',
  'xavier_normal',
  'wang_init',
  'small_init',
  'single_residual_scaled_normal',
] as const;
export const ACTIVATIONS = [
  'gelu',
  'geglu',
  'relu',
  'softsign',
  'swish',
  'mish',
  'silu',
  'reglu',
  'swiglu',
  'bilinear',
  'glu',
] as const;
export const LR_DECAY_STYLES = ['constant', 'linear', 'cosine', 'exponential'] as const;
export const TOKENIZER_TYPES = [
  'GPT2BPETokenizer',
  'HFTokenizer',
  'HFGPT2Tokenizer',
  'SPMTokenizer',
  'CharLevelTokenizer',
  'TiktokenTokenizer',
] as const;
export const PRECISIONS = ['fp16', 'fp32', 'bfloat16'] as const;

/** DeepSpeed's `fp16` keys and defaults (NeoX passes the block through to DeepSpeed). */
export const FP16_DEFAULTS = {
  enabled: false,
  /** 0: dynamic loss scaling; > 0: this static scale */
  loss_scale: 0,
  initial_scale_power: 16,
  loss_scale_window: 1000,
  hysteresis: 2,
  consecutive_hysteresis: false,
  min_loss_scale: 1,
} as const;

const fp16Block = dict({
  enabled: bool().default(FP16_DEFAULTS.enabled),
  loss_scale: nonNegNum().default(FP16_DEFAULTS.loss_scale),
  // 2^power must be a finite f32
  initial_scale_power: intBetween(0, 127).default(FP16_DEFAULTS.initial_scale_power),
  loss_scale_window: posInt().default(FP16_DEFAULTS.loss_scale_window),
  // DeepSpeed takes 0 too, and then never lowers the scale: refused here
  hysteresis: posInt().default(FP16_DEFAULTS.hysteresis),
  consecutive_hysteresis: bool().default(FP16_DEFAULTS.consecutive_hysteresis),
  min_loss_scale: posNum().default(FP16_DEFAULTS.min_loss_scale),
});
/** tabtron's key: what fp16 / bf16 keep in 16 bits in GPU memory (src/train/precision.ts). Both on
 *  by default, as DeepSpeed keeps a 16-bit working copy of the weights and 16-bit activations;
 *  off, only what travels between ranks is 16-bit and the loss scale (a power of two) is exact. */
export const HALF_STORAGE_DEFAULTS = { weights: true, activations: true } as const;

const halfStorageBlock = strictDict({
  weights: bool().default(HALF_STORAGE_DEFAULTS.weights),
  activations: bool().default(HALF_STORAGE_DEFAULTS.activations),
});

export const ATTENTION_TYPES = [
  'global',
  'local',
  'sparse_fixed',
  'sparse_variable',
  'bigbird',
  'bslongformer',
  'gmlp',
  'amlp',
  'flash',
  'rwkv',
  'mamba',
] as const;
/** NeoX's optimizer types (matched case-insensitively, as NeoX lowercases `optimizer.type`), plus DeepSpeed's AdamW. */
export const OPTIMIZER_TYPES = [
  'adam',
  'adamw',
  'onebitadam',
  'cpu_adam',
  'cpu_torch_adam',
  'sm3',
  'madgrad_wd',
  'sgd',
  'lion',
] as const;

export type AttentionType = (typeof ATTENTION_TYPES)[number];

const probability = () => inRange(0, 1, '[)');

const optimizerType = str().refine((t) => (OPTIMIZER_TYPES as readonly string[]).includes(t.toLowerCase()), {
  error: `must be one of ${OPTIMIZER_TYPES.map((t) => JSON.stringify(t)).join(', ')} (any case)`,
});

const betas = z.tuple([probability(), probability()], { error: 'must be a list of two numbers [beta1, beta2]' });

const optimizerBlock = dict({
  type: optimizerType.default('Adam'),
  params: dict({
    lr: posNum().optional(),
    betas: betas.optional(),
    eps: posNum().optional(),
    weight_decay: nonNegNum().optional(),
  }).default({}),
});

const attentionEntry = z.tuple(
  [z.array(oneOf(ATTENTION_TYPES), { error: 'must be a list of attention types' }), posInt()],
  {
    error: 'entries must look like [["global"], 12]: a list of attention types and a repeat count',
  },
);

const partitionMethod = str().refine((m) => m === 'parameters' || m === 'uniform' || isTypeRegex(m), {
  error: 'must be "parameters", "uniform" or "type:<regex>"',
});

function isTypeRegex(method: string): boolean {
  if (!method.startsWith('type:') || method.length === 5) return false;
  try {
    new RegExp(method.slice(5));
    return true;
  } catch {
    return false;
  }
}

const pathList = () =>
  z.array(str(), { error: 'must be a list of dataset paths (prefixes of .bin/.idx files)' }).min(1, {
    error: 'must name at least one dataset',
  });

const weightList = () => z.array(nonNegNum(), { error: 'must be a list of non-negative numbers' });

const splitString = str().refine((s) => splitProblem(s) === null, {
  error: (issue) => splitProblem(String(issue.input)) ?? 'is malformed',
});

/** Every modeled key, canonical (underscore) spelling. */
export const configShape = {
  // parallelism
  pipe_parallel_size: nonNegInt().default(0),
  model_parallel_size: posInt().default(1),
  pipe_partition_method: partitionMethod.default('type:transformer'),
  num_layers_per_virtual_pipeline_stage: posInt().nullable().default(null),
  global_num_gpus: posInt().nullable().default(null),
  // Megatron's sequence parallelism inside the TP group (no effect with model_parallel_size 1)
  sequence_parallel: bool().default(false),
  // model
  num_layers: posInt(),
  hidden_size: posInt(),
  num_attention_heads: posInt(),
  seq_length: posInt(),
  max_position_embeddings: posInt().optional(),
  intermediate_size: posInt().optional(),
  norm: oneOf(NORMS).default('layernorm'),
  layernorm_epsilon: posNum().default(1e-5),
  rms_norm_epsilon: posNum().default(1e-8),
  scalenorm_epsilon: posNum().default(1e-8),
  pos_emb: oneOf(POS_EMBS).default('learned'),
  rotary_pct: inRange(0, 1, '(]').default(1.0),
  rotary_emb_base: posNum().default(10000),
  no_weight_tying: bool().default(false),
  make_vocab_size_divisible_by: posInt().default(128),
  activation: oneOf(ACTIVATIONS).default('gelu'),
  init_method: oneOf(INIT_METHODS).default('normal'),
  output_layer_init_method: oneOf(INIT_METHODS).default('scaled_normal'),
  init_method_std: posNum().default(0.02),
  gpt_j_residual: bool().default(false),
  attention_config: z
    .array(attentionEntry, { error: 'must be a list like [[["global"], 12]]' })
    .nullable()
    .default(null),
  hidden_dropout: probability().default(0.1),
  attention_dropout: probability().default(0.1),
  // precision (DeepSpeed dicts; `precision` is derived from them when absent)
  precision: oneOf(PRECISIONS).optional(),
  fp16: fp16Block.default({ ...FP16_DEFAULTS }),
  bf16: dict({ enabled: bool().default(false) }).default({ enabled: false }),
  half_storage: halfStorageBlock.default({ ...HALF_STORAGE_DEFAULTS }),
  // optimizer and schedule
  optimizer: optimizerBlock.optional(),
  lr: posNum().optional(),
  min_lr: nonNegNum().default(0),
  weight_decay: nonNegNum().default(0.01),
  gradient_clipping: nonNegNum().default(0),
  zero_optimization: dict({ stage: intBetween(0, 3).default(0) }).default({ stage: 0 }),
  // training over slow links (tabtron's keys, see local-sgd.ts): federated rounds, compressed pipeline traffic
  local_sgd: localSgdBlock.nullable().default(null),
  pipe_compression: pipeCompressionBlock.default({ activations: 'none', gradients: 'none' }),
  // volunteers come and go (tabtron's key): a tab's own snapshot of its rank every N steps, for
  // coming back after a reload (null: N chosen from the measured cost, ~5% of training time; 0: off)
  snapshot_interval: nonNegInt().nullable().default(null),
  // tokens of the greedy sample a multi-tab run takes at every evaluation, for the admin page (0: none)
  sample_tokens: nonNegInt().default(24),
  lr_decay_style: oneOf(LR_DECAY_STYLES).default('linear'),
  lr_decay_iters: posInt().optional(),
  warmup: inRange(0, 1, '[]').default(0.01),
  train_iters: posInt(),
  // batch (DeepSpeed triplet; any two give the third, see batch.ts)
  train_batch_size: posInt().optional(),
  train_micro_batch_size_per_gpu: posInt().optional(),
  gradient_accumulation_steps: posInt().optional(),
  // activation checkpointing
  checkpoint_activations: bool().default(false),
  checkpoint_num_layers: posInt().default(1),
  // data and tokenizer (no data_path: tabtron's default corpus, Moby Dick); data_path is an indexed
  // dataset prefix (<path>.bin + <path>.idx) or a text file; or train/valid/test_data_paths (all three)
  data_path: str().nullable().default(null),
  train_data_paths: pathList().nullable().default(null),
  valid_data_paths: pathList().nullable().default(null),
  test_data_paths: pathList().nullable().default(null),
  train_data_weights: weightList().nullable().default(null),
  valid_data_weights: weightList().nullable().default(null),
  test_data_weights: weightList().nullable().default(null),
  weight_by_num_documents: bool().default(false),
  weighted_sampler_alpha: nonNegNum().default(1.0),
  data_impl: oneOf(['infer', 'mmap', 'cached']).default('infer'),
  pack_impl: oneOf(['packed', 'pack_until_overflow', 'unpacked']).default('packed'),
  split: splitString.default('969, 30, 1'),
  tokenizer_type: oneOf(TOKENIZER_TYPES).default('GPT2BPETokenizer'),
  vocab_file: str().nullable().default(null),
  merge_file: str().nullable().default(null),
  seed: int().default(1234),
  // evaluation, logging, checkpoints
  eval_interval: posInt().default(1000),
  eval_iters: nonNegInt().default(100),
  log_interval: posInt().default(100),
  save: str().nullable().default(null),
  load: str().nullable().default(null),
  save_interval: posInt().nullable().optional(),
  checkpoint_factor: posInt().nullable().optional(),
};

export const inputSchema = z.object(configShape);
export type ConfigInput = z.output<typeof inputSchema>;
export type ModeledKey = keyof typeof configShape;
export const MODELED_KEYS = Object.keys(configShape) as ModeledKey[];

/** Keys whose final value derive.ts computes (defaults that depend on other keys). */
export type DerivedKey =
  | 'max_position_embeddings'
  | 'intermediate_size'
  | 'precision'
  | 'optimizer'
  | 'lr'
  | 'lr_decay_iters'
  | 'train_batch_size'
  | 'train_micro_batch_size_per_gpu'
  | 'gradient_accumulation_steps'
  | 'attention_config'
  | 'save_interval'
  | 'checkpoint_factor';

export interface OptimizerConfig {
  type: string;
  params: { lr: number; betas: [number, number]; eps: number; weight_decay?: number; [extra: string]: unknown };
  [extra: string]: unknown;
}

/** A validated config with every default and derived value filled in (NeoX names). */
export type NeoXConfig = Omit<ConfigInput, DerivedKey> & {
  max_position_embeddings: number;
  /** MLP inner size; NeoX default 4 × hidden_size */
  intermediate_size: number;
  precision: (typeof PRECISIONS)[number];
  optimizer: OptimizerConfig;
  /** lowercased `optimizer.type`, as NeoX derives it */
  optimizer_type: string;
  /** peak learning rate (= optimizer.params.lr) */
  lr: number;
  lr_decay_iters: number;
  train_batch_size: number;
  train_micro_batch_size_per_gpu: number;
  gradient_accumulation_steps: number;
  /** one attention type per layer, expanded from NeoX's [[types], repeat] form */
  attention_config: AttentionType[];
  /** checkpoint every this many iterations (NeoX renamed save_interval to checkpoint_factor); null = never */
  checkpoint_factor: number | null;
  save_interval: number | null;
  /** vocabulary padded as NeoX does; null when tabtron has no tokenizer of that type */
  padded_vocab_size: number | null;
};
