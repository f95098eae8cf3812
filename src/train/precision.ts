// Mixed precision as NeoX configures it (`precision`, derived from the DeepSpeed `fp16` / `bf16`
// blocks): what a rank does differently from f32, and the sentence `tabtron validate` prints.
//
// tabtron's GPUs may lack `shader-f16` (SwiftShader, Dawn on NVIDIA), so arithmetic stays f32;
// "16-bit" is storage: the tensors listed in HALF_TENSORS are rounded to the run's 16-bit format
// (round to nearest, ties to even; fp16 overflows to ±Inf) where they are sent between ranks.
// Weights, gradients and Adam's state are f32, as DeepSpeed's master copies are.
// fp16 multiplies the loss by the loss scale before the backward (dynamic: DynamicLossScaler)
// and divides the gradients by it before clipping; bf16 uses scale 1. In both, a step whose
// gradients hold an Inf or NaN on any rank is skipped on every rank (DeepSpeed's bf16
// check_grad_overflow defaults to true as well).
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
}

/** A rank's mixed-precision machinery; null for f32 training. */
export interface MixedPrecision {
  format: HalfFormat;
  scaler: LossScaler;
}

/** What travels in 16 bits today. Not 16-bit yet: the parameters' working copy and the
 *  activations in GPU memory, ZeRO's reduce-scatter and all-gather, scalars (loss, norm). */
export const HALF_TENSORS = [
  'pipeline activations and their gradients (packed on the GPU)',
  'tensor-parallel sums',
  'the tied-embedding gradient sum (not with ZeRO-2/3)',
  'data-parallel gradient all-reduce (without ZeRO)',
] as const;

export function halfFormatOf(c: PrecisionConfig): HalfFormat | null {
  return c.precision === 'fp16' ? 'fp16' : c.precision === 'bfloat16' ? 'bf16' : null;
}

/** A fresh scaler per rank: every rank updates it with the same agreed overflow flags. */
export function mixedPrecisionFor(c: PrecisionConfig): MixedPrecision | null {
  const format = halfFormatOf(c);
  if (!format) return null;
  if (format === 'bf16') return { format, scaler: new StaticLossScaler(1) };
  const f = c.fp16;
  if (f && f.loss_scale > 0) return { format, scaler: new StaticLossScaler(f.loss_scale) };
  return {
    format,
    scaler: new DynamicLossScaler({
      initialScalePower: f?.initial_scale_power ?? 16,
      lossScaleWindow: f?.loss_scale_window ?? 1000,
      hysteresis: f?.hysteresis ?? 2,
      minLossScale: f?.min_loss_scale ?? 1,
      consecutiveHysteresis: f?.consecutive_hysteresis ?? false,
    }),
  };
}

/** One line on what precision really runs, for `tabtron validate` and `plan`. */
export function describePrecision(c: PrecisionConfig): string {
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
  return (
    `${format} mixed precision: ${scaling}; steps whose gradients overflow are skipped on every rank; ` +
    `${format} between ranks: ${HALF_TENSORS.join(', ')}; ` +
    'f32 arithmetic, f32 weights (no 16-bit working copy yet), activations, gradients and Adam state'
  );
}
