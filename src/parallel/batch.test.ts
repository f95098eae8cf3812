import { describe, expect, it } from 'vitest';
import { deriveBatch } from './batch';
import { PlanError } from './errors';

const batch = (train: number, micro: number, gas: number) => ({
  train_batch_size: train,
  train_micro_batch_size_per_gpu: micro,
  gradient_accumulation_steps: gas,
});

describe('deriveBatch (DeepSpeed triplet: train = micro × accumulation × dp)', () => {
  it.each([
    ['train + micro → accumulation', { train_batch_size: 64, train_micro_batch_size_per_gpu: 4 }, 2, batch(64, 4, 8)],
    ['train + accumulation → micro', { train_batch_size: 64, gradient_accumulation_steps: 4 }, 2, batch(64, 8, 4)],
    [
      'micro + accumulation → train',
      { train_micro_batch_size_per_gpu: 4, gradient_accumulation_steps: 3 },
      5,
      batch(60, 4, 3),
    ],
    ['micro alone → one step', { train_micro_batch_size_per_gpu: 4 }, 8, batch(32, 4, 1)],
    ['train alone → one step', { train_batch_size: 32 }, 8, batch(32, 4, 1)],
    ['all three consistent', batch(96, 4, 8), 3, batch(96, 4, 8)],
    [
      'GPT-NeoX-20B on 96 GPUs (DP 12)',
      { train_micro_batch_size_per_gpu: 4, gradient_accumulation_steps: 32 },
      12,
      batch(1536, 4, 32),
    ],
  ])('%s', (_what, given, dp, expected) => {
    expect(deriveBatch(given, dp)).toEqual(expected);
  });

  it.each([
    [
      'all three inconsistent',
      batch(100, 4, 8),
      3,
      'train_batch_size (100) must equal train_micro_batch_size_per_gpu (4) * gradient_accumulation_steps (8) * data-parallel size (3) = 96',
    ],
    [
      'train not a multiple of micro × dp',
      { train_batch_size: 100, train_micro_batch_size_per_gpu: 8 },
      2,
      'train_batch_size (100) must be a positive multiple of train_micro_batch_size_per_gpu (8) * data-parallel size (2) = 16',
    ],
    [
      'train smaller than micro × dp',
      { train_batch_size: 8, train_micro_batch_size_per_gpu: 8 },
      2,
      'train_batch_size (8) must be a positive multiple of train_micro_batch_size_per_gpu (8) * data-parallel size (2) = 16',
    ],
    [
      'train not a multiple of accumulation × dp',
      { train_batch_size: 30, gradient_accumulation_steps: 4 },
      2,
      'train_batch_size (30) must be a positive multiple of gradient_accumulation_steps (4) * data-parallel size (2) = 8',
    ],
    [
      'train not divisible by dp',
      { train_batch_size: 30 },
      4,
      'train_batch_size (30) must be a positive multiple of data-parallel size (4) = 4',
    ],
    [
      'accumulation alone',
      { gradient_accumulation_steps: 4 },
      1,
      'either train_batch_size or train_micro_batch_size_per_gpu must be set',
    ],
    ['nothing', {}, 1, 'either train_batch_size or train_micro_batch_size_per_gpu must be set'],
    [
      'zero micro batch',
      { train_micro_batch_size_per_gpu: 0 },
      1,
      'train_micro_batch_size_per_gpu must be a positive integer, got 0',
    ],
    ['bad dp', { train_micro_batch_size_per_gpu: 4 }, 1.5, 'data-parallel size must be a positive integer, got 1.5'],
  ])('%s throws a PlanError naming the numbers', (_what, given, dp, message) => {
    expect(() => deriveBatch(given, dp)).toThrow(PlanError);
    expect(() => deriveBatch(given, dp)).toThrow(message);
  });
});
