import { describe, expect, it } from 'vitest';
import { batchWindows, evalWindows } from './windows';

describe('evalWindows', () => {
  it('predicts every token after the first exactly once, padding the last window', () => {
    const tokens = [10, 11, 12, 13, 14, 15, 16, 17];
    const w = evalWindows(tokens, 3);
    expect(w.map((x) => [x.start, x.count])).toEqual([
      [0, 3],
      [3, 3],
      [6, 1],
    ]);
    expect([...w[1].inputs]).toEqual([13, 14, 15]);
    expect([...w[1].targets]).toEqual([14, 15, 16]);
    expect([...w[2].inputs]).toEqual([16, 0, 0]);
    expect([...w[2].targets]).toEqual([17, -1, -1]);
    const predicted = w.flatMap((x) => [...x.targets].filter((t) => t >= 0));
    expect(predicted).toEqual(tokens.slice(1));
  });

  it('gives no window for fewer than 2 tokens; batches pad with empty rows', () => {
    expect(evalWindows([5], 4)).toEqual([]);
    const b = batchWindows(evalWindows([1, 2, 3, 4], 2), 3, 2);
    expect(b).toHaveLength(1);
    expect(b[0].map((x) => x.count)).toEqual([2, 1, 0]);
  });
});
