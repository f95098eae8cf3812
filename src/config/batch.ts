// DeepSpeed's batch triplet: train_batch_size = micro batch × accumulation steps × data-parallel size.
// Any two of the three (with the data-parallel size) give the third; micro batch alone
// or train batch alone mean one accumulation step, as in NeoX.

import { ConfigError } from './errors';

export interface BatchGiven {
  train_batch_size?: number;
  train_micro_batch_size_per_gpu?: number;
  gradient_accumulation_steps?: number;
}

export interface Batch {
  train_batch_size: number;
  train_micro_batch_size_per_gpu: number;
  gradient_accumulation_steps: number;
}

const KEYS = ['train_batch_size', 'train_micro_batch_size_per_gpu', 'gradient_accumulation_steps'];

function fail(message: string): never {
  throw new ConfigError([{ keys: KEYS, message }]);
}

/** `what (n)` must be a whole multiple of `by` (a product named in `byText`). */
function exactQuotient(n: number, by: number, what: string, byText: string): number {
  if (n % by !== 0 || n < by) fail(`${what} (${n}) must be a positive multiple of ${byText} = ${by}`);
  return n / by;
}

export function deriveBatch(given: BatchGiven, dp: number): Batch {
  if (!Number.isInteger(dp) || dp < 1) fail(`data-parallel size must be a positive integer, got ${dp}`);
  for (const key of KEYS) {
    const v = given[key as keyof BatchGiven];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) fail(`${key} must be a positive integer, got ${v}`);
  }
  const { train_batch_size: train, train_micro_batch_size_per_gpu: micro, gradient_accumulation_steps: gas } = given;
  const dpText = `data-parallel size (${dp})`;

  if (train !== undefined && micro !== undefined && gas !== undefined) {
    if (train !== micro * gas * dp) {
      fail(
        `train_batch_size (${train}) must equal train_micro_batch_size_per_gpu (${micro}) * ` +
          `gradient_accumulation_steps (${gas}) * ${dpText} = ${micro * gas * dp}`,
      );
    }
    return { train_batch_size: train, train_micro_batch_size_per_gpu: micro, gradient_accumulation_steps: gas };
  }
  if (train !== undefined && micro !== undefined) {
    const steps = exactQuotient(
      train,
      micro * dp,
      'train_batch_size',
      `train_micro_batch_size_per_gpu (${micro}) * ${dpText}`,
    );
    return { train_batch_size: train, train_micro_batch_size_per_gpu: micro, gradient_accumulation_steps: steps };
  }
  if (train !== undefined && gas !== undefined) {
    const m = exactQuotient(train, gas * dp, 'train_batch_size', `gradient_accumulation_steps (${gas}) * ${dpText}`);
    return { train_batch_size: train, train_micro_batch_size_per_gpu: m, gradient_accumulation_steps: gas };
  }
  if (micro !== undefined) {
    const steps = gas ?? 1;
    return {
      train_batch_size: micro * steps * dp,
      train_micro_batch_size_per_gpu: micro,
      gradient_accumulation_steps: steps,
    };
  }
  if (train !== undefined) {
    const m = exactQuotient(train, dp, 'train_batch_size', dpText);
    return { train_batch_size: train, train_micro_batch_size_per_gpu: m, gradient_accumulation_steps: 1 };
  }
  return fail('either train_batch_size or train_micro_batch_size_per_gpu must be set');
}
