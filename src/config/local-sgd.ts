// tabtron's own keys for training over slow links, in NeoX's style (a DeepSpeed-like block):
//
//   local_sgd:                 # federated (DiLoCo-style) rounds between data-parallel replicas
//     inner_steps: 500         # ordinary steps each replica takes on its own data per round
//     outer_optimizer: {type: nesterov, lr: 0.7, momentum: 0.9}
//     compression: {type: int8, block_size: 256, error_feedback: true}   # the pseudo-gradient on the wire
//     streaming: {fragments: 1, overlap_steps: 0, mix: 0.5}              # Streaming DiLoCo
//   pipe_compression: {activations: none, gradients: none}               # or fp16 / int8 (per-row scales)
//
// Defaults of local_sgd are the DiLoCo paper's (Douillard et al. 2023, arXiv:2311.08105: H = 500
// inner steps, outer SGD with Nesterov momentum 0.9 and learning rate 0.7), with the
// pseudo-gradient sent uncompressed (f32) as there; Streaming DiLoCo (arXiv:2501.18512) mixes a
// fragment's late local and new global values half and half (mix 0.5). Without the block,
// data-parallel replicas all-reduce gradients every step (synchronous training).
// pipe_compression is off by default: pipeline parallelism then matches one rank exactly.

import { bool, inRange, intBetween, nonNegInt, oneOf, posInt, posNum, strictDict } from './fields';

export const OUTER_OPTIMIZERS = ['nesterov', 'sgd'] as const;
export const PSEUDO_GRADIENT_CODECS = ['none', 'int8'] as const;
export const PIPE_CODECS = ['none', 'fp16', 'int8'] as const;

export const LOCAL_SGD_DEFAULTS = {
  inner_steps: 500,
  outer_optimizer: { type: 'nesterov', lr: 0.7, momentum: 0.9 },
  compression: { type: 'none', block_size: 256, error_feedback: true },
  streaming: { fragments: 1, overlap_steps: 0, mix: 0.5 },
} as const;

const D = LOCAL_SGD_DEFAULTS;

const outerOptimizer = strictDict({
  type: oneOf(OUTER_OPTIMIZERS).default(D.outer_optimizer.type),
  lr: posNum().default(D.outer_optimizer.lr),
  momentum: inRange(0, 1, '[)').default(D.outer_optimizer.momentum),
});

const compression = strictDict({
  type: oneOf(PSEUDO_GRADIENT_CODECS).default(D.compression.type),
  /** values per f32 scale */
  block_size: intBetween(8, 1 << 20).default(D.compression.block_size),
  /** carry each round's quantisation error into the next round */
  error_feedback: bool().default(D.compression.error_feedback),
});

const streaming = strictDict({
  /** the parameters are synced in this many fragments, staggered over the round */
  fragments: posInt().default(D.streaming.fragments),
  /** inner steps that run while a fragment's all-reduce is in flight (0: the step waits for it) */
  overlap_steps: nonNegInt().default(D.streaming.overlap_steps),
  /** after an overlapped sync: fragment = mix × local + (1 − mix) × new global */
  mix: inRange(0, 1, '[]').default(D.streaming.mix),
});

export const localSgdBlock = strictDict({
  inner_steps: posInt().default(D.inner_steps),
  outer_optimizer: outerOptimizer.default({ ...D.outer_optimizer }),
  compression: compression.default({ ...D.compression }),
  streaming: streaming.default({ ...D.streaming }),
});

export const pipeCompressionBlock = strictDict({
  activations: oneOf(PIPE_CODECS).default('none'),
  gradients: oneOf(PIPE_CODECS).default('none'),
});

export type LocalSgdConfig = {
  inner_steps: number;
  outer_optimizer: { type: (typeof OUTER_OPTIMIZERS)[number]; lr: number; momentum: number };
  compression: { type: (typeof PSEUDO_GRADIENT_CODECS)[number]; block_size: number; error_feedback: boolean };
  streaming: { fragments: number; overlap_steps: number; mix: number };
};

export type PipeCodec = (typeof PIPE_CODECS)[number];
export type PipeCompressionConfig = { activations: PipeCodec; gradients: PipeCodec };
