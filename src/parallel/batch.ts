// The batch triplet as DeepSpeed/NeoX derive it (the one implementation; src/config uses it too):
//   train_batch_size = train_micro_batch_size_per_gpu × gradient_accumulation_steps × DP.
// Any two given → the third; only the micro batch or only train_batch_size → one accumulation
// step. All three given → they must multiply out. Failures are PlanErrors naming the numbers.

import { PlanError } from './errors';

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

export const BATCH_KEYS = [
  'train_batch_size',
  'train_micro_batch_size_per_gpu',
  'gradient_accumulation_steps',
] as const;

function fail(message: string): never {
  throw new PlanError(message);
}

/** `what (n)` must be a whole multiple of `by` (a product named in `byText`). */
function exactQuotient(n: number, by: number, what: string, byText: string): number {
  if (n % by !== 0 || n < by) fail(`${what} (${n}) must be a positive multiple of ${byText} = ${by}`);
  return n / by;
}

const triplet = (train: number, micro: number, gas: number): Batch => ({
  train_batch_size: train,
  train_micro_batch_size_per_gpu: micro,
  gradient_accumulation_steps: gas,
});

export function deriveBatch(given: BatchGiven, dp: number): Batch {
  if (!Number.isInteger(dp) || dp < 1) fail(`data-parallel size must be a positive integer, got ${dp}`);
  for (const key of BATCH_KEYS) {
    const v = given[key];
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
    return triplet(train, micro, gas);
  }
  if (train !== undefined && micro !== undefined) {
    const byText = `train_micro_batch_size_per_gpu (${micro}) * ${dpText}`;
    return triplet(train, micro, exactQuotient(train, micro * dp, 'train_batch_size', byText));
  }
  if (train !== undefined && gas !== undefined) {
    const byText = `gradient_accumulation_steps (${gas}) * ${dpText}`;
    return triplet(train, exactQuotient(train, gas * dp, 'train_batch_size', byText), gas);
  }
  if (micro !== undefined) {
    const steps = gas ?? 1;
    return triplet(micro * steps * dp, micro, steps);
  }
  if (train !== undefined) return triplet(train, exactQuotient(train, dp, 'train_batch_size', dpText), 1);
  return fail('either train_batch_size or train_micro_batch_size_per_gpu must be set');
}
