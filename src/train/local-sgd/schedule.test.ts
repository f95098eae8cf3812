import { describe, expect, it } from 'vitest';
import { fragmentRanges, fragmentsStartingAt, syncPlan } from './schedule';

describe('local SGD sync schedule', () => {
  it('syncs the whole model every H steps with one fragment', () => {
    expect(syncPlan(5, 1, 16)).toEqual([
      { step: 5, fragment: 0 },
      { step: 10, fragment: 0 },
      { step: 15, fragment: 0 },
    ]);
  });

  it('staggers fragments over the round, each every H steps (Streaming DiLoCo)', () => {
    expect(syncPlan(10, 3, 25)).toEqual([
      { step: 3, fragment: 0 },
      { step: 6, fragment: 1 },
      { step: 10, fragment: 2 },
      { step: 13, fragment: 0 },
      { step: 16, fragment: 1 },
      { step: 20, fragment: 2 },
      { step: 23, fragment: 0 },
    ]);
    expect(fragmentsStartingAt(1, 1, 1)).toEqual([0]);
  });

  it('cuts the flat vector into contiguous aligned ranges covering it once', () => {
    expect(fragmentRanges(1000, 3, 64)).toEqual([
      { start: 0, end: 320 },
      { start: 320, end: 640 },
      { start: 640, end: 1000 },
    ]);
    expect(fragmentRanges(10, 1)).toEqual([{ start: 0, end: 10 }]);
    expect(fragmentRanges(2, 4).map((r) => r.end - r.start)).toEqual([1, 0, 1, 0]);
    expect(() => fragmentRanges(10, 0)).toThrow('fragments must be a positive integer, got 0');
  });
});
