import { describe, expect, it } from 'vitest';
import { learningRate, type LrSchedule } from './lr';

const base: LrSchedule = { lr: 1e-3, minLr: 1e-4, warmup: 0.1, decayIters: 100, style: 'cosine' };

describe('learningRate (NeoX AnnealingLR)', () => {
  it('warms up linearly from 0 over warmup × decay iters', () => {
    expect(learningRate(base, 0)).toBe(0);
    expect(learningRate(base, 5)).toBeCloseTo(5e-4, 12);
    expect(learningRate(base, 10)).toBeCloseTo(1e-3, 12);
  });
  it('cosine reaches min_lr at the end and stays there', () => {
    expect(learningRate(base, 55)).toBeCloseTo(1e-3 / 2, 10);
    expect(learningRate(base, 100)).toBeCloseTo(1e-4, 12);
    expect(learningRate(base, 500)).toBe(1e-4);
  });
  it('linear decays to min_lr halfway point exactly', () => {
    const s = { ...base, style: 'linear' as const, minLr: 0 };
    expect(learningRate(s, 55)).toBeCloseTo(5e-4, 12);
    expect(learningRate(s, 100)).toBeCloseTo(0, 12);
  });
  it('constant ignores decay but keeps warmup', () => {
    const s = { ...base, style: 'constant' as const };
    expect(learningRate(s, 3)).toBeCloseTo(3e-4, 12);
    expect(learningRate(s, 90)).toBe(1e-3);
  });
  it('exponential halves over decayIters', () => {
    const s = { ...base, style: 'exponential' as const, warmup: 0, minLr: 0 };
    expect(learningRate(s, 100)).toBeCloseTo(1e-3 * Math.exp(-Math.LN2), 12);
  });
  it('never goes below min_lr', () => {
    for (const style of ['linear', 'cosine', 'exponential'] as const) {
      for (let i = 11; i < 200; i += 7) expect(learningRate({ ...base, style }, i)).toBeGreaterThanOrEqual(base.minLr);
    }
  });
});
