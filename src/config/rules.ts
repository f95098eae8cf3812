// Cross-field rules, one small named function each. A rule runs only when every key it
// reads passed its own checks; it returns the broken rule as a sentence, or null.

import type { LocalSgdConfig } from './local-sgd';
import type { AttentionType } from './schema';

type Values = Record<string, unknown>;

export interface Rule {
  name: string;
  /** top-level keys the rule reads (their files are named in the message) */
  keys: string[];
  check: (v: Values) => string | null;
}

const n = (v: Values, key: string) => v[key] as number;
const enabled = (v: Values, key: string) => (v[key] as { enabled: boolean }).enabled;

function hiddenDivisibleByHeads(v: Values): string | null {
  return n(v, 'hidden_size') % n(v, 'num_attention_heads') === 0
    ? null
    : `hidden_size (${n(v, 'hidden_size')}) must be divisible by num_attention_heads (${n(v, 'num_attention_heads')})`;
}

function positionsCoverSequence(v: Values): string | null {
  return n(v, 'max_position_embeddings') >= n(v, 'seq_length')
    ? null
    : `max_position_embeddings (${n(v, 'max_position_embeddings')}) must be >= seq_length (${n(v, 'seq_length')})`;
}

function minLrAtMostLr(v: Values): string | null {
  return n(v, 'min_lr') <= n(v, 'lr') ? null : `min_lr (${n(v, 'min_lr')}) must be <= lr (${n(v, 'lr')})`;
}

function headsDivisibleByModelParallel(v: Values): string | null {
  return n(v, 'num_attention_heads') % n(v, 'model_parallel_size') === 0
    ? null
    : `num_attention_heads (${n(v, 'num_attention_heads')}) must be divisible by model_parallel_size (${n(v, 'model_parallel_size')})`;
}

function intermediateDivisibleByModelParallel(v: Values): string | null {
  return n(v, 'intermediate_size') % n(v, 'model_parallel_size') === 0
    ? null
    : `intermediate_size (${n(v, 'intermediate_size')}) must be divisible by model_parallel_size (${n(v, 'model_parallel_size')})`;
}

function sequenceSplitsOverModelParallel(v: Values): string | null {
  const [T, tp] = [n(v, 'seq_length'), n(v, 'model_parallel_size')];
  return !v.sequence_parallel || T % tp === 0
    ? null
    : `sequence_parallel: seq_length (${T}) must be divisible by model_parallel_size (${tp}): each TP rank holds seq_length / model_parallel_size positions`;
}

function layersCoverPipelineStages(v: Values): string | null {
  return n(v, 'num_layers') >= n(v, 'pipe_parallel_size')
    ? null
    : `num_layers (${n(v, 'num_layers')}) must be >= pipe_parallel_size (${n(v, 'pipe_parallel_size')}): every pipeline stage needs a layer`;
}

function virtualStagesDivideLayers(v: Values): string | null {
  const chunk = v.num_layers_per_virtual_pipeline_stage as number | null;
  if (chunk === null) return null;
  const [layers, pp] = [n(v, 'num_layers'), n(v, 'pipe_parallel_size')];
  if (pp < 2) return `num_layers_per_virtual_pipeline_stage (${chunk}) needs pipe_parallel_size >= 2, got ${pp}`;
  if (layers % pp !== 0 || (layers / pp) % chunk !== 0) {
    return `num_layers (${layers}) must split into pipe_parallel_size (${pp}) stages of a multiple of num_layers_per_virtual_pipeline_stage (${chunk}) layers`;
  }
  return null;
}

function rotaryDimsEven(v: Values): string | null {
  if (v.pos_emb !== 'rotary') return null;
  const [hidden, heads, pct] = [n(v, 'hidden_size'), n(v, 'num_attention_heads'), n(v, 'rotary_pct')];
  if (hidden % heads !== 0) return null; // reported by hiddenDivisibleByHeads
  const headSize = hidden / heads;
  const dims = Math.floor(headSize * pct);
  return dims >= 2 && dims % 2 === 0
    ? null
    : `rotary_pct (${pct}) * head size (${headSize}) gives ${dims} rotary dimensions; it must be a positive even number`;
}

function attentionConfigMatchesLayers(v: Values): string | null {
  const perLayer = v.attention_config as AttentionType[];
  return perLayer.length === n(v, 'num_layers')
    ? null
    : `attention_config covers ${perLayer.length} layers but num_layers is ${n(v, 'num_layers')}`;
}

function gpusDivisibleByModelAndPipe(v: Values): string | null {
  const gpus = v.global_num_gpus as number | null;
  if (gpus === null) return null;
  const perReplica = Math.max(n(v, 'pipe_parallel_size'), 1) * n(v, 'model_parallel_size');
  return gpus % perReplica === 0
    ? null
    : `global_num_gpus (${gpus}) must be divisible by pipe_parallel_size (${n(v, 'pipe_parallel_size')}) * model_parallel_size (${n(v, 'model_parallel_size')}) = ${perReplica}`;
}

function oneHalfPrecision(v: Values): string | null {
  return enabled(v, 'fp16') && enabled(v, 'bf16') ? 'fp16.enabled and bf16.enabled cannot both be true' : null;
}

function zeroStageWithoutPipeline(v: Values): string | null {
  const stage = (v.zero_optimization as { stage: number }).stage;
  return stage >= 2 && n(v, 'pipe_parallel_size') > 0
    ? `zero_optimization.stage (${stage}) >= 2 cannot be combined with pipeline parallelism; set pipe_parallel_size to 0 (got ${n(v, 'pipe_parallel_size')})`
    : null;
}

function localSgdKeepsOptimizerState(v: Values): string | null {
  const stage = (v.zero_optimization as { stage: number }).stage;
  return v.local_sgd !== null && stage >= 1
    ? `local_sgd needs every data-parallel replica to keep its own optimizer state, but zero_optimization.stage (${stage}) shards it across the replicas; set zero_optimization.stage to 0`
    : null;
}

function localSgdStreamingFitsRound(v: Values): string | null {
  const sgd = v.local_sgd as LocalSgdConfig | null;
  if (sgd === null) return null;
  const { inner_steps: h, streaming: s } = sgd;
  if (s.fragments > h)
    return `local_sgd.streaming.fragments (${s.fragments}) must be <= local_sgd.inner_steps (${h}): each fragment syncs once per round`;
  if (s.overlap_steps * s.fragments >= h)
    return `local_sgd.streaming.overlap_steps (${s.overlap_steps}) * fragments (${s.fragments}) must be < inner_steps (${h}): one fragment's sync must finish before the next one starts`;
  return null;
}

const SEPARATE_PATHS = ['train_data_paths', 'valid_data_paths', 'test_data_paths'];

function separateDataPathsTogether(v: Values): string | null {
  const given = SEPARATE_PATHS.filter((k) => v[k] != null);
  if (given.length === 0 || given.length === 3) return null;
  const missing = SEPARATE_PATHS.filter((k) => v[k] == null);
  return `${given.join(' and ')} ${given.length === 1 ? 'is' : 'are'} set without ${missing.join(' and ')}: give all three, or data_path alone`;
}

function dataWeightsMatchPaths(v: Values): string | null {
  for (const split of ['train', 'valid', 'test']) {
    const paths = v[`${split}_data_paths`] as unknown[] | null;
    const weights = v[`${split}_data_weights`] as unknown[] | null;
    if (paths && weights && paths.length !== weights.length)
      return `${split}_data_weights has ${weights.length} entries but ${split}_data_paths has ${paths.length}: one weight per dataset`;
    if (!paths && weights) return `${split}_data_weights is set without ${split}_data_paths`;
  }
  return null;
}

export const RULES: readonly Rule[] = [
  { name: 'hiddenDivisibleByHeads', keys: ['hidden_size', 'num_attention_heads'], check: hiddenDivisibleByHeads },
  { name: 'positionsCoverSequence', keys: ['max_position_embeddings', 'seq_length'], check: positionsCoverSequence },
  { name: 'minLrAtMostLr', keys: ['min_lr', 'lr'], check: minLrAtMostLr },
  {
    name: 'headsDivisibleByModelParallel',
    keys: ['num_attention_heads', 'model_parallel_size'],
    check: headsDivisibleByModelParallel,
  },
  {
    name: 'intermediateDivisibleByModelParallel',
    keys: ['intermediate_size', 'model_parallel_size'],
    check: intermediateDivisibleByModelParallel,
  },
  {
    name: 'sequenceSplitsOverModelParallel',
    keys: ['sequence_parallel', 'seq_length', 'model_parallel_size'],
    check: sequenceSplitsOverModelParallel,
  },
  { name: 'layersCoverPipelineStages', keys: ['num_layers', 'pipe_parallel_size'], check: layersCoverPipelineStages },
  {
    name: 'virtualStagesDivideLayers',
    keys: ['num_layers', 'pipe_parallel_size', 'num_layers_per_virtual_pipeline_stage'],
    check: virtualStagesDivideLayers,
  },
  {
    name: 'rotaryDimsEven',
    keys: ['pos_emb', 'hidden_size', 'num_attention_heads', 'rotary_pct'],
    check: rotaryDimsEven,
  },
  {
    name: 'attentionConfigMatchesLayers',
    keys: ['attention_config', 'num_layers'],
    check: attentionConfigMatchesLayers,
  },
  {
    name: 'gpusDivisibleByModelAndPipe',
    keys: ['global_num_gpus', 'pipe_parallel_size', 'model_parallel_size'],
    check: gpusDivisibleByModelAndPipe,
  },
  { name: 'oneHalfPrecision', keys: ['fp16', 'bf16'], check: oneHalfPrecision },
  { name: 'separateDataPathsTogether', keys: SEPARATE_PATHS, check: separateDataPathsTogether },
  {
    name: 'dataWeightsMatchPaths',
    keys: [...SEPARATE_PATHS, 'train_data_weights', 'valid_data_weights', 'test_data_weights'],
    check: dataWeightsMatchPaths,
  },
  {
    name: 'zeroStageWithoutPipeline',
    keys: ['zero_optimization', 'pipe_parallel_size'],
    check: zeroStageWithoutPipeline,
  },
  {
    name: 'localSgdKeepsOptimizerState',
    keys: ['local_sgd', 'zero_optimization'],
    check: localSgdKeepsOptimizerState,
  },
  { name: 'localSgdStreamingFitsRound', keys: ['local_sgd'], check: localSgdStreamingFitsRound },
];
