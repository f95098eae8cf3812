import { describe, expect, it } from 'vitest';
import { ConfigError, deriveBatch, parseSplit } from './index';

const batch = (train: number, micro: number, gas: number) => ({
  train_batch_size: train,
  train_micro_batch_size_per_gpu: micro,
  gradient_accumulation_steps: gas,
});

describe('deriveBatch in a config (src/parallel/batch.ts does the arithmetic)', () => {
  it('derives the missing member of the triplet', () => {
    expect(deriveBatch({ train_batch_size: 64, train_micro_batch_size_per_gpu: 4 }, 2)).toEqual(batch(64, 4, 8));
  });

  it('reports a triplet that does not work out as a ConfigError on the three batch keys', () => {
    const err = (() => {
      try {
        deriveBatch(batch(100, 4, 8), 3);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      {
        keys: ['train_batch_size', 'train_micro_batch_size_per_gpu', 'gradient_accumulation_steps'],
        message:
          'train_batch_size (100) must equal train_micro_batch_size_per_gpu (4) * gradient_accumulation_steps (8) * data-parallel size (3) = 96',
      },
    ]);
  });
});

describe('parseSplit', () => {
  it('normalises NeoX split strings to fractions', () => {
    expect(parseSplit('969, 30, 1')).toEqual([0.969, 0.03, 0.001]);
    expect(parseSplit('90/10')).toEqual([0.9, 0.1, 0]);
    expect(parseSplit('1')).toEqual([1, 0, 0]);
  });

  it('rejects malformed splits', () => {
    expect(() => parseSplit('90;10')).toThrow('split must be 1 to 3 comma-separated');
    expect(() => parseSplit('1,,1')).toThrow('split must be 1 to 3 comma-separated');
  });
});
