import { describe, expect, it } from 'vitest';
import { deriveBatch } from './batch';

describe('deriveBatch', () => {
  it('derives the third number from any two, as DeepSpeed does', () => {
    expect(deriveBatch({ dp: 12, train_micro_batch_size_per_gpu: 4, gradient_accumulation_steps: 32 })).toEqual({
      train_batch_size: 1536,
      train_micro_batch_size_per_gpu: 4,
      gradient_accumulation_steps: 32,
    });
    expect(
      deriveBatch({ dp: 12, train_batch_size: 1536, train_micro_batch_size_per_gpu: 4 }).gradient_accumulation_steps,
    ).toBe(32);
    expect(
      deriveBatch({ dp: 12, train_batch_size: 1536, gradient_accumulation_steps: 32 }).train_micro_batch_size_per_gpu,
    ).toBe(4);
  });

  it('takes one accumulation step when only one number is given', () => {
    expect(deriveBatch({ dp: 8, train_micro_batch_size_per_gpu: 4 })).toEqual({
      train_batch_size: 32,
      train_micro_batch_size_per_gpu: 4,
      gradient_accumulation_steps: 1,
    });
    expect(deriveBatch({ dp: 8, train_batch_size: 64 })).toEqual({
      train_batch_size: 64,
      train_micro_batch_size_per_gpu: 8,
      gradient_accumulation_steps: 1,
    });
  });

  it('accepts three numbers that multiply out', () => {
    expect(
      deriveBatch({ dp: 2, train_batch_size: 24, train_micro_batch_size_per_gpu: 3, gradient_accumulation_steps: 4 })
        .train_batch_size,
    ).toBe(24);
  });

  it('rejects three numbers that do not multiply out, naming them', () => {
    expect(() =>
      deriveBatch({ dp: 2, train_batch_size: 25, train_micro_batch_size_per_gpu: 3, gradient_accumulation_steps: 4 }),
    ).toThrow(
      'batch sizes do not multiply out: train_batch_size 25 != train_micro_batch_size_per_gpu 3 × gradient_accumulation_steps 4 × data-parallel size 2 (= 24)',
    );
  });

  it('rejects derivations that are not whole numbers, naming the numbers', () => {
    expect(() => deriveBatch({ dp: 3, train_batch_size: 32, train_micro_batch_size_per_gpu: 4 })).toThrow(
      'cannot derive gradient_accumulation_steps: train_batch_size 32 / (train_micro_batch_size_per_gpu 4 × data-parallel size 3) = 2.6667 is not a positive integer',
    );
    expect(() => deriveBatch({ dp: 4, train_batch_size: 8, gradient_accumulation_steps: 4 })).toThrow(
      'cannot derive train_micro_batch_size_per_gpu: train_batch_size 8 / (gradient_accumulation_steps 4 × data-parallel size 4) = 0.5',
    );
    expect(() => deriveBatch({ dp: 3, train_batch_size: 10 })).toThrow(
      'cannot derive train_micro_batch_size_per_gpu: train_batch_size 10 / data-parallel size 3',
    );
  });

  it('rejects missing and non-positive numbers', () => {
    expect(() => deriveBatch({ dp: 1 })).toThrow(
      'either train_batch_size or train_micro_batch_size_per_gpu must be given',
    );
    expect(() => deriveBatch({ dp: 1, gradient_accumulation_steps: 2 })).toThrow(
      'either train_batch_size or train_micro_batch_size_per_gpu must be given',
    );
    expect(() => deriveBatch({ dp: 1, train_micro_batch_size_per_gpu: 0 })).toThrow(
      'train_micro_batch_size_per_gpu must be a positive integer, got 0',
    );
  });
});
