// NeoX's derived values: defaults that depend on other keys. Each is computed only when
// its inputs passed their own checks, so one bad key does not hide other problems.

import { deriveBatch } from './batch';
import { ConfigError, inFiles, type ConfigIssue } from './errors';
import type { AttentionType, OptimizerConfig } from './schema';
import { TOKENIZER_VOCAB_SIZES } from './support';

export interface DeriveContext {
  /** merged values as the user wrote them */
  given: Record<string, unknown>;
  /** values being resolved: parsed inputs, then derived ones as they are computed */
  values: Record<string, unknown>;
  /** keys that failed their own checks, or could not be derived */
  bad: Set<string>;
  sources: Record<string, string>;
  issues: ConfigIssue[];
  warnings: string[];
}

const ADAM_DEFAULT_BETAS: [number, number] = [0.9, 0.999];
const ADAM_DEFAULT_EPS = 1e-8;

/** True when every key is present and passed its checks. */
export function ready(ctx: DeriveContext, ...keys: string[]): boolean {
  return keys.every((k) => !ctx.bad.has(k) && ctx.values[k] !== undefined);
}

function num(ctx: DeriveContext, key: string): number {
  return ctx.values[key] as number;
}

/** Padded vocabulary as NeoX computes it: round up to a multiple of divisibleBy × model-parallel size. */
export function padVocabSize(vocab: number, divisibleBy: number, modelParallel: number): number {
  const multiple = divisibleBy * modelParallel;
  return Math.ceil(vocab / multiple) * multiple;
}

/** NeoX's [[types, repeat], ...] → one attention type per layer. */
export function expandAttentionConfig(
  entries: ReadonlyArray<readonly [readonly AttentionType[], number]>,
): AttentionType[] {
  const out: AttentionType[] = [];
  for (const [types, repeat] of entries) for (let i = 0; i < repeat; i++) out.push(...types);
  return out;
}

/** A usable optimizer.params.lr from the user's block even when another part of it is bad. */
function salvageLr(ctx: DeriveContext): void {
  const params = (ctx.given.optimizer as { params?: { lr?: unknown } } | undefined)?.params;
  const lr = params?.lr ?? ctx.values.lr;
  if (typeof lr === 'number' && lr > 0 && !ctx.bad.has('lr')) ctx.values.lr = lr;
  else ctx.bad.add('lr');
}

function deriveOptimizer(ctx: DeriveContext): void {
  if (ctx.bad.has('optimizer') || ctx.bad.has('lr')) {
    ctx.bad.add('optimizer_type');
    return salvageLr(ctx);
  }
  const given = ctx.values.optimizer as { type: string; params: Record<string, unknown> } | undefined;
  const paramsLr = given?.params.lr as number | undefined;
  const topLr = ctx.values.lr as number | undefined;
  const lr = paramsLr ?? topLr;
  if (lr === undefined) {
    ctx.bad.add('lr').add('optimizer').add('optimizer_type');
    ctx.issues.push({
      keys: ['optimizer.params.lr', 'lr'],
      message: inFiles([ctx.sources.optimizer], 'lr is required: set optimizer.params.lr (or a top-level lr)'),
    });
    return;
  }
  if (paramsLr !== undefined && topLr !== undefined && paramsLr !== topLr) {
    ctx.warnings.push(`lr (${topLr}) is replaced by optimizer.params.lr (${paramsLr}), as NeoX does`);
  }
  const type = given?.type ?? 'Adam';
  const params = given?.params ?? {};
  const optimizer: OptimizerConfig = {
    ...given,
    type,
    params: {
      ...params,
      lr,
      betas: (params.betas as [number, number]) ?? ADAM_DEFAULT_BETAS,
      eps: (params.eps as number) ?? ADAM_DEFAULT_EPS,
    },
  };
  ctx.values.optimizer = optimizer;
  ctx.values.optimizer_type = type.toLowerCase();
  ctx.values.lr = lr;
}

function deriveBatchTriplet(ctx: DeriveContext): void {
  const keys = ['train_batch_size', 'train_micro_batch_size_per_gpu', 'gradient_accumulation_steps'];
  const parallel = ['global_num_gpus', 'pipe_parallel_size', 'model_parallel_size'];
  if ([...keys, ...parallel].some((k) => ctx.bad.has(k))) return void keys.forEach((k) => ctx.bad.add(k));
  const gpus = ctx.values.global_num_gpus as number | null;
  const perReplica = Math.max(num(ctx, 'pipe_parallel_size'), 1) * num(ctx, 'model_parallel_size');
  // Without a known GPU (tab) count, one data-parallel replica; the coordinator
  // re-derives with the real count (deriveBatch with the user's values, see userBatch).
  const dp = gpus === null ? 1 : gpus / perReplica;
  if (!Number.isInteger(dp)) return void keys.forEach((k) => ctx.bad.add(k)); // reported by a rule
  try {
    Object.assign(ctx.values, deriveBatch(userBatch(ctx.values), dp));
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    keys.forEach((k) => ctx.bad.add(k));
    for (const issue of e.issues)
      ctx.issues.push({
        ...issue,
        message: inFiles(
          keys.map((k) => ctx.sources[k]),
          issue.message,
        ),
      });
  }
}

/** The batch values the user gave (the triplet's derived members are not included). */
export function userBatch(values: Record<string, unknown>, sources?: Record<string, string>) {
  const pick = (k: string) => (sources && !(k in sources) ? undefined : (values[k] as number | undefined));
  return {
    train_batch_size: pick('train_batch_size'),
    train_micro_batch_size_per_gpu: pick('train_micro_batch_size_per_gpu'),
    gradient_accumulation_steps: pick('gradient_accumulation_steps'),
  };
}

function deriveCheckpointFactor(ctx: DeriveContext): void {
  if (ctx.bad.has('save_interval') || ctx.bad.has('checkpoint_factor')) return;
  const saveInterval = ctx.values.save_interval as number | null | undefined;
  const factor = ctx.values.checkpoint_factor as number | null | undefined;
  if (saveInterval != null && factor != null && saveInterval !== factor) {
    ctx.bad.add('save_interval').add('checkpoint_factor');
    ctx.issues.push({
      keys: ['save_interval', 'checkpoint_factor'],
      message: inFiles(
        [ctx.sources.save_interval, ctx.sources.checkpoint_factor],
        `save_interval (${saveInterval}) and checkpoint_factor (${factor}) disagree; NeoX renamed save_interval to checkpoint_factor, set only one`,
      ),
    });
    return;
  }
  ctx.values.checkpoint_factor = ctx.values.save_interval = factor ?? saveInterval ?? null;
}

/** Fills every derived value whose inputs are good; adds issues for those that cannot be derived. */
export function deriveValues(ctx: DeriveContext): void {
  const v = ctx.values;
  if (v.max_position_embeddings === undefined && ready(ctx, 'seq_length')) v.max_position_embeddings = v.seq_length;
  if (v.intermediate_size === undefined && ready(ctx, 'hidden_size')) v.intermediate_size = 4 * num(ctx, 'hidden_size');
  if (v.lr_decay_iters === undefined && ready(ctx, 'train_iters')) v.lr_decay_iters = v.train_iters;
  if (v.precision === undefined && ready(ctx, 'fp16', 'bf16')) {
    const enabled = (k: string) => (v[k] as { enabled: boolean }).enabled;
    v.precision = enabled('fp16') ? 'fp16' : enabled('bf16') ? 'bfloat16' : 'fp32';
  }
  if (ready(ctx, 'num_layers') && !ctx.bad.has('attention_config')) {
    const entries = v.attention_config as Array<[AttentionType[], number]> | null;
    v.attention_config =
      entries === null ? Array<AttentionType>(num(ctx, 'num_layers')).fill('global') : expandAttentionConfig(entries);
  }
  if (ready(ctx, 'tokenizer_type', 'make_vocab_size_divisible_by', 'model_parallel_size')) {
    const base = TOKENIZER_VOCAB_SIZES[v.tokenizer_type as string];
    v.padded_vocab_size =
      base === undefined
        ? null
        : padVocabSize(base, num(ctx, 'make_vocab_size_divisible_by'), num(ctx, 'model_parallel_size'));
  }
  deriveOptimizer(ctx);
  deriveBatchTriplet(ctx);
  deriveCheckpointFactor(ctx);
}
