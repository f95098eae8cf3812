// Mixed precision as NeoX configures it (`precision`, derived from the DeepSpeed `fp16` / `bf16`
// blocks): what a rank does differently from f32, and the sentence `tabtron validate` prints.
//
// Arithmetic: an fp16 run on a GPU with `shader-f16` (Mesa's lavapipe here; not SwiftShader, nor
// Dawn on NVIDIA) computes its linear layers' matrix products in f16 (gpu/kernels/matmul-f16.ts:
// f16 operands, dot products of four in f16, summed in f32); everything else, and every bf16 run
// (WGSL has no bf16 type), computes in f32. Otherwise "16-bit" is storage, rounded to the run's
// format (round to nearest, ties to even; fp16 overflows to ±Inf): the tensors listed in HALF_TENSORS where they are sent between ranks, and in GPU
// memory (tabtron's `half_storage` key, both on by default; parallel/half-storage.ts) the
// parameters' working copy and the activations a layer keeps for its backward. The master
// weights, gradients and Adam's state are f32, as DeepSpeed's are.
// fp16 multiplies the loss by the loss scale before the backward (dynamic: DynamicLossScaler)
// and divides the gradients by it before clipping; bf16 uses scale 1. In both, a step whose
// gradients hold an Inf or NaN on any rank is skipped on every rank (DeepSpeed's bf16
// check_grad_overflow defaults to true as well).
import { HALF_STORAGE_DEFAULTS } from '../config/schema';
import { type HalfStorage, halfStorageLimits, halfStorageRun } from '../parallel/half-storage';
import { DynamicLossScaler, type LossScaler, StaticLossScaler } from './loss-scaler';

export type HalfFormat = 'fp16' | 'bf16';

/** The `fp16` block (DeepSpeed's keys, defaulted by the config schema). */
export interface Fp16Block {
  enabled: boolean;
  loss_scale: number;
  initial_scale_power: number;
  loss_scale_window: number;
  hysteresis: number;
  consecutive_hysteresis: boolean;
  min_loss_scale: number;
}

export interface PrecisionConfig {
  precision?: 'fp32' | 'fp16' | 'bfloat16';
  fp16?: Fp16Block;
  /** what is kept in 16 bits in GPU memory (tabtron's key; default both) */
  half_storage?: HalfStorage;
  zero_optimization?: { stage: number };
}

/** A rank's mixed-precision machinery; null for f32 training. */
export interface MixedPrecision {
  format: HalfFormat;
  scaler: LossScaler;
  /** what the config asks to keep in 16 bits in GPU memory (the layout may keep part in f32:
   *  parallel/half-storage.ts halfStorageRun) */
  storage: HalfStorage;
}

/** What travels in 16 bits (sums are added in f32; only the messages are rounded). Not 16-bit:
 *  scalars (loss, norm, overflow flag), the vocab-parallel loss's log-sum-exp, and the f32 shards
 *  a checkpoint gathers. */
export const HALF_TENSORS = [
  'pipeline activations and their gradients (packed on the GPU)',
  'tensor-parallel sums',
  "sequence parallelism's all-gathers and reduce-scatters (packed on the GPU) and its replicated-gradient sum",
  'the tied-embedding gradient sum',
  "data-parallel gradient all-reduce and ZeRO's gradient reduce-scatter",
] as const;

/** ZeRO's parameter all-gathers are 16-bit when half_storage.weights is on: stages 1/2 gather the
 *  updated shards into the working copy's values, stage 3 each layer into its window. */
export const HALF_PARAM_GATHERS = "ZeRO's parameter all-gathers (packed on the GPU)";

export function halfFormatOf(c: PrecisionConfig): HalfFormat | null {
  return c.precision === 'fp16' ? 'fp16' : c.precision === 'bfloat16' ? 'bf16' : null;
}

/** A fresh scaler per rank: every rank updates it with the same agreed overflow flags. */
export function mixedPrecisionFor(c: PrecisionConfig): MixedPrecision | null {
  const format = halfFormatOf(c);
  if (!format) return null;
  const storage = { ...(c.half_storage ?? HALF_STORAGE_DEFAULTS) };
  if (format === 'bf16') return { format, storage, scaler: new StaticLossScaler(1) };
  const f = c.fp16;
  if (f && f.loss_scale > 0) return { format, storage, scaler: new StaticLossScaler(f.loss_scale) };
  return {
    format,
    storage,
    scaler: new DynamicLossScaler({
      initialScalePower: f?.initial_scale_power ?? 16,
      lossScaleWindow: f?.loss_scale_window ?? 1000,
      hysteresis: f?.hysteresis ?? 2,
      minLossScale: f?.min_loss_scale ?? 1,
      consecutiveHysteresis: f?.consecutive_hysteresis ?? false,
    }),
  };
}

/** The f16 arithmetic of an fp16 run on a GPU with shader-f16, in words. */
export const F16_ARITHMETIC =
  "f16 arithmetic in the linear layers' matrix products (shader-f16: operands rounded to f16, dot products " +
  'of four in f16, summed in f32), f32 arithmetic elsewhere';

/** What arithmetic a 16-bit run does on a GPU with these features (unknown: before a GPU is chosen,
 *  as in `validate`): f16 in the linear layers' products for fp16 where the GPU has shader-f16. */
export function arithmeticNote(format: HalfFormat, features?: readonly string[]): string {
  if (format === 'bf16') return 'f32 arithmetic (WGSL has no bf16 arithmetic type)';
  if (!features) return `on GPUs with shader-f16 ${F16_ARITHMETIC}; on the others f32 arithmetic`;
  return features.includes('shader-f16') ? F16_ARITHMETIC : 'f32 arithmetic (this GPU has no shader-f16)';
}

/** What the layout keeps in 16 bits in GPU memory, and in f32, in words. */
export function storageWords(format: HalfFormat, run: HalfStorage): string {
  const half = [
    ...(run.weights ? ["the parameters' working copy (cast from the f32 master weights after each update)"] : []),
    ...(run.activations ? ['the activations each layer keeps for its backward'] : []),
  ];
  const f32 = [
    run.weights ? 'master weights' : 'weights',
    'gradients',
    'Adam state',
    ...(run.activations ? [] : ['activations']),
  ];
  const kept = `f32 in GPU memory: ${f32.join(', ')}`;
  return half.length ? `${format} in GPU memory: ${half.join(' and ')}; ${kept}` : kept;
}

/** One line on what precision really runs, for `tabtron validate` and `plan` (the layout as
 *  configured: ZeRO-3 keeps the weights f32). */
export function describePrecision(c: PrecisionConfig, features?: readonly string[]): string {
  const format = halfFormatOf(c);
  if (!format) return 'fp32: every tensor and all arithmetic in f32';
  const f = c.fp16;
  const scaling =
    format === 'bf16'
      ? 'no loss scaling'
      : f && f.loss_scale > 0
        ? `static loss scale ${f.loss_scale}`
        : `dynamic loss scale from 2^${f?.initial_scale_power ?? 16} (window ${f?.loss_scale_window ?? 1000}, ` +
          `hysteresis ${f?.hysteresis ?? 2}${f?.consecutive_hysteresis ? ' consecutive' : ''}, ` +
          `min ${f?.min_loss_scale ?? 1})`;
  const asked = c.half_storage ?? HALF_STORAGE_DEFAULTS;
  const layout = { zeroStage: c.zero_optimization?.stage ?? 0 };
  const run = halfStorageRun(asked, layout);
  const kept = halfStorageLimits(asked, layout)
    .map((l) => ` (${l.key}: ${l.why})`)
    .join('');
  return (
    `${format} mixed precision: ${scaling}; steps whose gradients overflow are skipped on every rank; ` +
    `${format} between ranks: ${[...HALF_TENSORS, ...(asked.weights ? [HALF_PARAM_GATHERS] : [])].join(', ')}; ` +
    `${storageWords(format, run)}${kept}; ${arithmeticNote(format, features)}`
  );
}

/** What one rank runs, as it starts (the `start` event): its layout's 16-bit storage and the
 *  arithmetic its model really uses (Gpt.arithmetic), with the GPU's features for the reason. */
export function rankPrecision(
  format: HalfFormat | null,
  run: HalfStorage,
  arithmetic: 'f16' | 'f32',
  features?: readonly string[],
): string {
  if (!format) return 'fp32: every tensor and all arithmetic in f32';
  const note =
    arithmetic === 'f16'
      ? F16_ARITHMETIC
      : format === 'fp16' && features?.includes('shader-f16')
        ? 'f32 arithmetic (asked for, though this GPU has shader-f16)'
        : arithmeticNote(format, features ?? []);
  return `${format} mixed precision; ${storageWords(format, run)}; ${note}`;
}
