import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../util/rng';
import { sampleToken } from './sampler';

const logits = Float32Array.from([0.5, 2, 1.5, -1, 3, 2.9]);

describe('sampleToken', () => {
  it('is greedy at temperature 0 (first of equal maxima) and ignores ids past vocabSize', () => {
    expect(sampleToken(logits, { temperature: 0, topK: 0, vocabSize: 6 }, () => 0.5)).toBe(4);
    expect(sampleToken([1, 3, 3], { temperature: 0, topK: 0, vocabSize: 3 }, () => 0)).toBe(1);
    expect(sampleToken(logits, { temperature: 0, topK: 0, vocabSize: 4 }, () => 0.5)).toBe(1);
  });

  it('draws from softmax(logits / T): the frequencies match the probabilities', () => {
    const rng = mulberry32(9);
    const T = 0.7,
      n = 20000;
    const counts = new Array(6).fill(0);
    for (let i = 0; i < n; i++) counts[sampleToken(logits, { temperature: T, topK: 0, vocabSize: 6 }, rng)]++;
    const w = [...logits].map((x) => Math.exp(x / T));
    const z = w.reduce((a, b) => a + b, 0);
    w.forEach((x, i) => expect(Math.abs(counts[i] / n - x / z)).toBeLessThan(0.015));
  });

  it('top-k keeps only the k most likely tokens', () => {
    const rng = mulberry32(3);
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) seen.add(sampleToken(logits, { temperature: 5, topK: 2, vocabSize: 6 }, rng));
    expect([...seen].sort()).toEqual([4, 5]);
  });

  it('walks the cumulative weights with the uniform draw', () => {
    // weights at T = 1 of [0, ln 3]: 1 and 3 (total 4): u < 0.25 → 0, else 1
    const l = [0, Math.log(3)];
    expect(sampleToken(l, { temperature: 1, topK: 0, vocabSize: 2 }, () => 0.2)).toBe(0);
    expect(sampleToken(l, { temperature: 1, topK: 0, vocabSize: 2 }, () => 0.3)).toBe(1);
  });

  it('rejects bad options', () => {
    expect(() => sampleToken(logits, { temperature: -1, topK: 0, vocabSize: 6 }, Math.random)).toThrow('temperature');
    expect(() => sampleToken(logits, { temperature: 1, topK: 1.5, vocabSize: 6 }, Math.random)).toThrow('top-k');
  });
});
