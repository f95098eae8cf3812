import { describe, expect, it } from 'vitest';
import { chunkBounds, reductionOrder, ringPlan } from './ring-plan';

describe('chunkBounds', () => {
  it.each([
    [1, 0],
    [1, 5],
    [3, 10],
    [4, 3],
    [8, 1],
    [5, 1031],
  ])('size %i, length %i: contiguous, covering, balanced', (size, length) => {
    const chunks = chunkBounds(size, length);
    expect(chunks).toHaveLength(size);
    expect(chunks[0].start).toBe(0);
    expect(chunks[size - 1].end).toBe(length);
    for (let c = 1; c < size; c++) expect(chunks[c].start).toBe(chunks[c - 1].end);
    const lens = chunks.map((c) => c.end - c.start);
    expect(Math.max(...lens) - Math.min(...lens)).toBeLessThanOrEqual(1);
  });

  it('gives the extra elements to the first chunks', () => {
    expect(chunkBounds(3, 10)).toEqual([
      { start: 0, end: 4 },
      { start: 4, end: 7 },
      { start: 7, end: 10 },
    ]);
  });
});

describe('ringPlan', () => {
  it('rejects bad arguments', () => {
    expect(() => ringPlan(0, 0, 4)).toThrow(/size/);
    expect(() => ringPlan(4, 4, 4)).toThrow(/rank 4/);
    expect(() => ringPlan(4, 0, -1)).toThrow(/length/);
  });

  for (let size = 1; size <= 8; size++) {
    it(`size ${size}: every send meets the neighbour's receive of the same chunk`, () => {
      const plans = Array.from({ length: size }, (_, r) => ringPlan(size, r, 100));
      for (const p of plans) {
        expect(p.reduceScatter).toHaveLength(size - 1);
        expect(p.allGather).toHaveLength(size - 1);
        for (let s = 0; s < size - 1; s++) {
          expect(plans[p.next].reduceScatter[s].recv).toBe(p.reduceScatter[s].send);
          expect(plans[p.next].allGather[s].recv).toBe(p.allGather[s].send);
        }
      }
    });

    it(`size ${size}: simulated ring sums each chunk in reductionOrder and ends at its owner; all-gather fills everything`, () => {
      const plans = Array.from({ length: size }, (_, r) => ringPlan(size, r, 100));
      // partial[r][c]: positions summed so far into chunk c at position r, in order
      const partial = plans.map((_, r) => plans.map(() => [r]));
      for (let s = 0; s < size - 1; s++) {
        const sent = plans.map((p) => [...partial[p.rank][p.reduceScatter[s].send]]);
        for (const p of plans) {
          const c = p.reduceScatter[s].recv;
          partial[p.rank][c] = [...sent[p.prev], p.rank];
        }
      }
      for (let c = 0; c < size; c++) expect(partial[c][c]).toEqual(reductionOrder(size, c));
      // all-gather: who holds the final value of each chunk
      const has = plans.map((p) => new Set([p.rank]));
      for (let s = 0; s < size - 1; s++) {
        for (const p of plans) {
          const c = p.allGather[s].send;
          expect(has[p.rank].has(c), `position ${p.rank} forwards chunk ${c} before having it`).toBe(true);
        }
        for (const p of plans) has[p.rank].add(p.allGather[s].recv);
      }
      for (const h of has) expect(h.size).toBe(size);
    });
  }
});
