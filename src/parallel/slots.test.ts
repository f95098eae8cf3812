import { describe, expect, it } from 'vitest';
import { interleavedAllStages, oneFOneBAllStages } from './schedule';
import { peakInFlightOf, peakLiveOf } from './plan';
import { slotPlan } from './slots';

describe('slotPlan', () => {
  it('is microbatch mod bufferSlots without interleaving', () => {
    const ops = oneFOneBAllStages(4, 8)[1];
    const p = slotPlan(ops, 1, peakLiveOf(ops));
    expect(p.count).toBe(4);
    expect([0, 1, 4, 7].map((mb) => p.slotOf({ microbatch: mb }))).toEqual([0, 1, 0, 3]);
  });

  it('shares sets between chunks: no two live (microbatch, chunk) pairs ever hold the same set', () => {
    for (const [P, m, v] of [
      [2, 4, 2],
      [2, 8, 2],
      [4, 8, 2],
      [4, 16, 2],
      [4, 8, 4],
      [3, 6, 3],
    ]) {
      interleavedAllStages(P, m, v).forEach((ops, s) => {
        const p = slotPlan(ops, v, 0);
        const key = (op: { microbatch: number; chunk?: number }) => `${op.microbatch}.${op.chunk ?? 0}`;
        const last = new Map(ops.map((op, i) => [key(op), i]));
        const holder = new Map<number, string>();
        ops.forEach((op, i) => {
          const slot = p.slotOf(op);
          expect(slot).toBeLessThan(p.count);
          const held = holder.get(slot);
          expect(held === undefined || held === key(op), `P ${P} m ${m} v ${v} stage ${s} op ${i}`).toBe(true);
          holder.set(slot, key(op));
          if (last.get(key(op)) === i) holder.delete(slot);
        });
        // about the microbatch-chunks in flight, far fewer than v sets per chunk
        expect(p.count).toBeLessThanOrEqual(peakInFlightOf(ops) + 2);
        expect(p.count).toBeLessThan(v * peakLiveOf(ops));
      });
    }
  });
});
