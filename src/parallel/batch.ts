// Batch arithmetic as DeepSpeed/NeoX derive it:
//   train_batch_size = train_micro_batch_size_per_gpu × gradient_accumulation_steps × DP.
// Any two given → the third; only train_batch_size → one accumulation step; only the micro
// batch → one accumulation step. All three given → they must multiply out.

import { PlanError } from './errors';

export interface BatchInput {
  dp: number;
  train_batch_size?: number;
  train_micro_batch_size_per_gpu?: number;
  gradient_accumulation_steps?: number;
}

export interface Batch {
  train_batch_size: number;
  train_micro_batch_size_per_gpu: number;
  gradient_accumulation_steps: number;
}

export function deriveBatch(input: BatchInput): Batch {
  const { dp } = input;
  const train = input.train_batch_size;
  const micro = input.train_micro_batch_size_per_gpu;
  const gas = input.gradient_accumulation_steps;
  for (const [key, v] of [
    ['train_batch_size', train],
    ['train_micro_batch_size_per_gpu', micro],
    ['gradient_accumulation_steps', gas],
  ] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 1))
      throw new PlanError(`${key} must be a positive integer, got ${v}`);
  }

  let out: Batch;
  if (train !== undefined && micro !== undefined && gas !== undefined) {
    out = { train_batch_size: train, train_micro_batch_size_per_gpu: micro, gradient_accumulation_steps: gas };
  } else if (train !== undefined && micro !== undefined) {
    out = {
      train_batch_size: train,
      train_micro_batch_size_per_gpu: micro,
      gradient_accumulation_steps: exactQuotient(
        train,
        micro * dp,
        'gradient_accumulation_steps',
        `train_batch_size ${train} / (train_micro_batch_size_per_gpu ${micro} × data-parallel size ${dp})`,
      ),
    };
  } else if (train !== undefined && gas !== undefined) {
    out = {
      train_batch_size: train,
      gradient_accumulation_steps: gas,
      train_micro_batch_size_per_gpu: exactQuotient(
        train,
        gas * dp,
        'train_micro_batch_size_per_gpu',
        `train_batch_size ${train} / (gradient_accumulation_steps ${gas} × data-parallel size ${dp})`,
      ),
    };
  } else if (micro !== undefined) {
    const steps = gas ?? 1;
    out = {
      train_micro_batch_size_per_gpu: micro,
      gradient_accumulation_steps: steps,
      train_batch_size: micro * steps * dp,
    };
  } else if (train !== undefined) {
    out = {
      train_batch_size: train,
      gradient_accumulation_steps: 1,
      train_micro_batch_size_per_gpu: exactQuotient(
        train,
        dp,
        'train_micro_batch_size_per_gpu',
        `train_batch_size ${train} / data-parallel size ${dp}`,
      ),
    };
  } else {
    throw new PlanError('either train_batch_size or train_micro_batch_size_per_gpu must be given');
  }

  const product = out.train_micro_batch_size_per_gpu * out.gradient_accumulation_steps * dp;
  if (out.train_batch_size !== product) {
    throw new PlanError(
      `batch sizes do not multiply out: train_batch_size ${out.train_batch_size} != train_micro_batch_size_per_gpu ${out.train_micro_batch_size_per_gpu} × gradient_accumulation_steps ${out.gradient_accumulation_steps} × data-parallel size ${dp} (= ${product})`,
    );
  }
  return out;
}

function exactQuotient(num: number, den: number, key: string, what: string): number {
  const q = num / den;
  if (!Number.isInteger(q) || q < 1)
    throw new PlanError(`cannot derive ${key}: ${what} = ${+q.toFixed(4)} is not a positive integer`);
  return q;
}
