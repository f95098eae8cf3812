// NeoX config (underscore keys, as src/config produces them) → PlanInput. Defaults are NeoX's.
// The vocabulary is the tokenizer's size, padded by the plan as NeoX pads it.

import { TOKENIZER_VOCAB_SIZES } from '../config/index';
import { BATCH_KEYS } from './batch';
import { PlanError } from './errors';
import type { HalfStorage } from './half-storage';
import type { NormKind } from './params';
import { makePlan, type Plan, type PlanInput } from './plan';
import { planJson } from './plan-json';

export interface PlanOverrides {
  /** ranks in the run; else global_num_gpus from the config */
  world?: number;
  /** tokens in the tokenizer, when the config's tokenizer is not one we know the size of */
  vocabSize?: number;
  /** data-parallel replicas; world = dp × PP × TP (the coordinator knows replicas, not ranks) */
  dp?: number;
  /** model chunks per stage for interleaved 1F1B */
  virtualChunks?: number;
  /** src/config's `sources` (the file that set each key): the batch keys the user did not set
   *  were derived by the loader for its own data-parallel size and are derived again here */
  sources?: Record<string, string>;
}

/** Tokenizer sizes before padding; HFTokenizer is taken to be GPT-NeoX-20B's (Pythia's). */
export const TOKENIZER_VOCAB: Readonly<Record<string, number>> = { ...TOKENIZER_VOCAB_SIZES, HFTokenizer: 50277 };

export function planInputFromConfig(
  config: object,
  overrides: PlanOverrides = {},
): { input: PlanInput; warnings: string[] } {
  const c = config as Record<string, unknown>;
  const warnings: string[] = [];
  const num = (key: string): number | undefined => {
    const v = c[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new PlanError(`${key} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const need = (key: string): number => {
    const v = num(key);
    if (v === undefined) throw new PlanError(`${key} is required to plan a run`);
    return v;
  };
  const bool = (key: string, dflt: boolean): boolean => {
    const v = c[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'boolean') throw new PlanError(`${key} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const str = (key: string, dflt: string): string => {
    const v = c[key];
    if (v === undefined || v === null) return dflt;
    if (typeof v !== 'string') throw new PlanError(`${key} must be a string, got ${JSON.stringify(v)}`);
    return v;
  };

  const tp = num('model_parallel_size') ?? 1;
  const pipeParallelSize = num('pipe_parallel_size') ?? 0;
  const configWorld = num('global_num_gpus');
  const world =
    overrides.world ?? (overrides.dp !== undefined ? overrides.dp * tp * Math.max(1, pipeParallelSize) : configWorld);
  if (world === undefined) throw new PlanError('the world size is unknown: pass --world N or set global_num_gpus');
  if (configWorld !== undefined && world !== configWorld)
    warnings.push(`planning for ${world} ranks, not global_num_gpus ${configWorld}`);

  const tokenizer = str('tokenizer_type', 'GPT2BPETokenizer');
  let vocabSize = overrides.vocabSize;
  if (vocabSize === undefined) {
    vocabSize = TOKENIZER_VOCAB[tokenizer];
    if (vocabSize === undefined)
      throw new PlanError(`tokenizer_type "${tokenizer}" has no known vocabulary size: pass --vocab-size N`);
    if (tokenizer === 'HFTokenizer')
      warnings.push(
        `tokenizer_type HFTokenizer: assuming the GPT-NeoX-20B tokenizer (${vocabSize} tokens); pass --vocab-size to change`,
      );
  }

  const norm = str('norm', 'layernorm');
  if (norm !== 'layernorm' && norm !== 'rmsnorm' && norm !== 'scalenorm')
    throw new PlanError(`norm "${norm}" is not one of layernorm, rmsnorm, scalenorm`);
  const zero = c.zero_optimization as { stage?: unknown } | undefined;
  const zeroStage = zero?.stage ?? 0;
  if (typeof zeroStage !== 'number')
    throw new PlanError(`zero_optimization.stage must be a number, got ${JSON.stringify(zeroStage)}`);

  const batch = givenBatch(c, num, overrides.sources, warnings);
  const input: PlanInput = {
    world,
    tp,
    pipeParallelSize,
    virtualChunks: overrides.virtualChunks ?? virtualChunksOf(num('num_layers_per_virtual_pipeline_stage'), c),
    numLayers: need('num_layers'),
    hidden: need('hidden_size'),
    heads: need('num_attention_heads'),
    ffnHidden: num('intermediate_size'),
    seqLength: need('seq_length'),
    maxPositions: num('max_position_embeddings'),
    posEmb: str('pos_emb', 'learned'),
    norm: norm as NormKind,
    tiedEmbeddings: !bool('no_weight_tying', false),
    vocabSize,
    makeVocabSizeDivisibleBy: num('make_vocab_size_divisible_by') ?? 128,
    trainBatchSize: batch.train_batch_size,
    microBatch: batch.train_micro_batch_size_per_gpu,
    gradientAccumulationSteps: batch.gradient_accumulation_steps,
    partitionMethod: str('pipe_partition_method', 'type:transformer'),
    zeroStage,
    recomputeActivations: bool('checkpoint_activations', false),
    recomputeLayers: num('checkpoint_num_layers') ?? 1,
    sequenceParallel: bool('sequence_parallel', false),
    attentionDropout: (num('attention_dropout') ?? 0) > 0,
    parallelResidual: bool('gpt_j_residual', false),
    half: halfOf(c),
  };
  return { input, warnings };
}

/** fp16 / bf16 from `precision` (or, unresolved, the DeepSpeed blocks) and tabtron's half_storage. */
function halfOf(c: Record<string, unknown>): PlanInput['half'] {
  const enabled = (key: string) => (c[key] as { enabled?: unknown } | undefined)?.enabled === true;
  const precision = c.precision ?? (enabled('fp16') ? 'fp16' : enabled('bf16') ? 'bfloat16' : 'fp32');
  if (precision !== 'fp16' && precision !== 'bfloat16') return null;
  const asked = (c.half_storage ?? {}) as Partial<HalfStorage>;
  return {
    format: precision === 'fp16' ? 'fp16' : 'bf16',
    storage: { weights: asked.weights ?? true, activations: asked.activations ?? true },
  };
}

/** Model chunks per stage from NeoX's num_layers_per_virtual_pipeline_stage (Megatron's
 *  virtual pipeline size: layers per stage ÷ layers per chunk); 1 when it is not set. */
function virtualChunksOf(layersPerChunk: number | undefined, c: Record<string, unknown>): number {
  if (layersPerChunk === undefined) return 1;
  const layers = c.num_layers as number,
    pp = Math.max(1, (c.pipe_parallel_size as number | undefined) ?? 0);
  const v = layers / pp / layersPerChunk;
  if (!Number.isInteger(v) || v < 1)
    throw new PlanError(
      `num_layers (${layers}) must split into pipe_parallel_size (${pp}) stages of a multiple of num_layers_per_virtual_pipeline_stage (${layersPerChunk}) layers`,
    );
  return v;
}

/** What a layout's gradient_accumulation_steps must be a multiple of: pipe_parallel_size under
 *  interleaved 1F1B (Megatron's groups of P microbatches per chunk), else 1. */
export function accumulationMultiple(config: object): number {
  const c = config as Record<string, unknown>;
  const chunk = c.num_layers_per_virtual_pipeline_stage;
  if (typeof chunk !== 'number') return 1;
  const pp = Math.max(1, (c.pipe_parallel_size as number | undefined) ?? 0);
  return virtualChunksOf(chunk, c) > 1 ? pp : 1;
}

/** The batch numbers the user gave. Without `sources`, a loader-derived triplet for an unknown
 *  GPU count (global_num_gpus null: derived for one replica) keeps micro batch and accumulation. */
function givenBatch(
  c: Record<string, unknown>,
  num: (key: string) => number | undefined,
  sources: Record<string, string> | undefined,
  warnings: string[],
): Partial<Record<(typeof BATCH_KEYS)[number], number>> {
  const out: Partial<Record<(typeof BATCH_KEYS)[number], number>> = {};
  for (const k of BATCH_KEYS) if (!sources || k in sources) out[k] = num(k);
  if (
    !sources &&
    c.global_num_gpus === null &&
    out.train_micro_batch_size_per_gpu !== undefined &&
    out.gradient_accumulation_steps !== undefined
  ) {
    delete out.train_batch_size;
    warnings.push(
      'train_batch_size re-derived from train_micro_batch_size_per_gpu × gradient_accumulation_steps × DP (no config sources given)',
    );
  }
  return out;
}

/** Config → validated Plan, with the adapter's warnings. */
export function planFromConfig(config: object, options: PlanOverrides = {}): { plan: Plan; warnings: string[] } {
  const { input, warnings } = planInputFromConfig(config, options);
  return { plan: makePlan(input), warnings };
}

/** Config → the plan as a JSON-ready object (what `tabtron plan --json` prints). */
export function plan(config: object, options: PlanOverrides = {}): ReturnType<typeof planJson> {
  const made = planFromConfig(config, options);
  return planJson(made.plan, made.warnings);
}
