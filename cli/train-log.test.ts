import { describe, expect, it } from 'vitest';
import { formatEntry, IntervalLog, type StepRecord } from './train-log';

const step = (n: number, loss: number, tokensPerSec: number | null = 100): StepRecord => ({
  step: n,
  loss,
  lr: n / 1000,
  tokensPerSec,
});

describe('IntervalLog (NeoX training_log: every log_interval iterations, the loss averaged over them)', () => {
  it('logs every log_interval steps with the mean loss of the interval, and the last step', () => {
    const log = new IntervalLog(4, 10);
    const out = Array.from({ length: 10 }, (_, i) => log.add(step(i + 1, i + 1)));
    expect(out.map((e) => e?.iteration ?? null)).toEqual([null, null, null, 4, null, null, null, 8, null, 10]);
    expect(log.entries).toEqual([
      { iteration: 4, iterations: 4, train_loss: 2.5, lr: 0.004, tokens_per_sec: 100 },
      { iteration: 8, iterations: 4, train_loss: 6.5, lr: 0.008, tokens_per_sec: 100 },
      { iteration: 10, iterations: 2, train_loss: 9.5, lr: 0.01, tokens_per_sec: 100 },
    ]);
  });

  it('after a resume, the first interval runs to the next multiple of log_interval', () => {
    const log = new IntervalLog(5, 12);
    for (const n of [8, 9, 10, 11, 12]) log.add(step(n, n));
    expect(log.entries.map((e) => [e.iteration, e.iterations, e.train_loss])).toEqual([
      [10, 3, 9],
      [12, 2, 11.5],
    ]);
  });

  it("gives the interval's tokens/s as its tokens over its time (equal tokens per step)", () => {
    const log = new IntervalLog(2, 4);
    log.add(step(1, 1, 100));
    expect(log.add(step(2, 1, 300))!.tokens_per_sec).toBeCloseTo(150, 10); // 2 steps in 1/100 + 1/300 s per token
    log.add(step(3, 1, null));
    expect(log.add(step(4, 1, 100))!.tokens_per_sec).toBeNull();
  });

  it('flushes a partial interval once, and refuses a bad interval', () => {
    const log = new IntervalLog(10, 100);
    log.add(step(1, 3));
    log.add(step(2, 5));
    expect(log.flush()).toMatchObject({ iteration: 2, iterations: 2, train_loss: 4 });
    expect(log.flush()).toBeNull();
    expect(() => new IntervalLog(0, 10)).toThrow('log_interval must be a positive integer, got 0');
  });

  it('formats a line', () => {
    expect(
      formatEntry({ iteration: 10, iterations: 10, train_loss: 4.12345, lr: 0.00095, tokens_per_sec: 1234.4 }, 60),
    ).toBe('iteration 10/60 | train loss 4.1235 (mean of 10) | lr 9.500e-4 | 1234 tok/s');
    expect(formatEntry({ iteration: 3, iterations: 3, train_loss: 2, lr: null, tokens_per_sec: null }, 3)).toBe(
      'iteration 3/3 | train loss 2.0000 (mean of 3)',
    );
  });
});
