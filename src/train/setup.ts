// From a resolved NeoX config to what one rank trains: model spec, optimizer, schedule,
// (the data: src/data/rank-data.ts). Only the NeoX keys read here (by their NeoX names) matter.

import type { LocalSgdConfig, PipeCompressionConfig } from '../config/local-sgd';
import type { AdamHyper } from '../gpu/kernels/optimizer';
import { padVocab, type InitKind, type ModelSpec, type NormKind, type PosEmbKind } from '../model/spec';
import type { DataConfig } from '../data/data-config';
import type { Tokenizer } from '../data/tokenizer';
import type { DecayStyle, LrSchedule } from './lr';
import type { PrecisionConfig } from './precision';

/** The NeoX keys a single rank's training reads (all already defaulted and validated). */
export interface TrainConfig extends DataConfig, PrecisionConfig {
  num_layers: number;
  hidden_size: number;
  num_attention_heads: number;
  seq_length: number;
  max_position_embeddings: number;
  intermediate_size?: number | null;
  norm: string;
  layernorm_epsilon: number;
  rms_norm_epsilon: number;
  pos_emb: string;
  rotary_pct: number;
  rotary_emb_base: number;
  no_weight_tying: boolean;
  gpt_j_residual: boolean;
  hidden_dropout: number;
  attention_dropout: number;
  init_method: string;
  output_layer_init_method: string;
  init_method_std: number;
  seed: number;
  make_vocab_size_divisible_by: number;
  tokenizer_type: string;
  optimizer: { type: string; params: { lr?: number; betas?: number[]; eps?: number } };
  lr?: number | null;
  min_lr: number;
  warmup: number;
  lr_decay_style: string;
  lr_decay_iters?: number | null;
  train_iters: number;
  weight_decay: number;
  gradient_clipping: number;
  train_micro_batch_size_per_gpu?: number | null;
  gradient_accumulation_steps?: number | null;
  split: string;
  eval_interval: number;
  eval_iters: number;
  log_interval?: number;
  checkpoint_activations?: boolean;
  checkpoint_num_layers?: number;
  zero_optimization?: { stage: number };
  /** Megatron's sequence parallelism inside the TP group (no effect without TP) */
  sequence_parallel?: boolean;
  /** NeoX checkpoints: where to save, every checkpoint_factor steps; where to load from */
  save?: string | null;
  load?: string | null;
  checkpoint_factor?: number | null;
  /** a tab's local snapshot every N steps (null: from the measured cost; 0: off) */
  snapshot_interval?: number | null;
  /** tokens of the sample a multi-tab run takes at every evaluation (0: none) */
  sample_tokens?: number;
  /** federated rounds between data-parallel replicas (src/train/local-sgd); null: synchronous */
  local_sgd?: LocalSgdConfig | null;
  /** what pipeline activations and their gradients travel as (default f32) */
  pipe_compression?: PipeCompressionConfig;
}

export function modelSpec(c: TrainConfig, tokenizer: Tokenizer, tp = 1): ModelSpec {
  const hd = c.hidden_size / c.num_attention_heads;
  const pos = c.pos_emb as PosEmbKind;
  if (!['learned', 'rotary', 'none'].includes(pos))
    throw new Error(`pos_emb "${c.pos_emb}" is not implemented yet (learned, rotary, none are)`);
  if (!['layernorm', 'rmsnorm'].includes(c.norm))
    throw new Error(`norm "${c.norm}" is not implemented yet (layernorm, rmsnorm are)`);
  let rotaryDims = Math.floor(hd * c.rotary_pct);
  rotaryDims -= rotaryDims % 2;
  return {
    V: padVocab(tokenizer.vocabSize, c.make_vocab_size_divisible_by, tp),
    C: c.hidden_size,
    L: c.num_layers,
    H: c.num_attention_heads,
    hd,
    F: c.intermediate_size ?? 4 * c.hidden_size,
    T: c.seq_length,
    maxPos: c.max_position_embeddings,
    norm: c.norm as NormKind,
    normEps: c.norm === 'rmsnorm' ? c.rms_norm_epsilon : c.layernorm_epsilon,
    posEmb: pos,
    rotaryDims,
    rotaryBase: c.rotary_emb_base,
    tied: !c.no_weight_tying,
    parallelResidual: c.gpt_j_residual,
    hiddenDropout: c.hidden_dropout,
    attentionDropout: c.attention_dropout,
    initStd: c.init_method_std,
    initMethod: c.init_method as InitKind,
    outputInitMethod: c.output_layer_init_method as InitKind,
    seed: c.seed,
  };
}

export function peakLr(c: TrainConfig): number {
  const lr = c.optimizer.params.lr ?? c.lr;
  if (lr == null) throw new Error('no learning rate: set optimizer.params.lr (or lr)');
  return lr;
}

/** Adam's settings. Weight decay is the top-level weight_decay, as NeoX applies it to its decay
 *  group; optimizer.params.weight_decay is ignored (the config warnings say so). */
export function adamHyper(c: TrainConfig): AdamHyper {
  const [beta1, beta2] = c.optimizer.params.betas ?? [0.9, 0.999];
  return {
    beta1,
    beta2,
    eps: c.optimizer.params.eps ?? 1e-8,
    weightDecay: c.weight_decay,
    maxGradNorm: c.gradient_clipping,
  };
}

export function lrSchedule(c: TrainConfig): LrSchedule {
  return {
    lr: peakLr(c),
    minLr: c.min_lr,
    warmup: c.warmup,
    decayIters: c.lr_decay_iters ?? c.train_iters,
    style: c.lr_decay_style as DecayStyle,
  };
}
