// Collectives over slices of a longer vector (gradient buckets): reducing a vector slice by
// slice, in any cut, gives every rank the same bits as one collective over the whole vector,
// because each slice keeps the whole vector's ring chunks (and so each element's summation order).
import { describe, expect, it } from 'vitest';
import { chunkBounds } from './ring-plan';
import { allGather, allReduce, reduceScatter, type ReduceOp } from './collectives';
import { Group } from './group';
import { createLoopbackWorld } from './loopback';
import { firstBitDifference } from './reference';
import { testTensor } from './test-helpers';

function groups(n: number): Group[] {
  const ranks = Array.from({ length: n }, (_, r) => r);
  return createLoopbackWorld(n).transports.map((t) => new Group(t, ranks, 'dp'));
}

/** Cuts [0, length) at the given points. */
const cut = (length: number, at: number[]) =>
  [0, ...at, length].slice(1).map((end, i, ends) => ({ start: i === 0 ? 0 : ends[i - 1], end }));

function expectBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const i = firstBitDifference(got, want);
  expect(i, `${what}: first difference at ${i}: ${got[i]} vs ${want[i]}`).toBe(-1);
}

describe('allReduce and reduceScatter of slices', () => {
  for (const n of [3, 4, 5]) {
    const length = 1031;
    // cuts inside chunks, on chunk edges, and a one-element slice
    const slices = cut(length, [5, 6, 200, chunkBounds(n, length)[1].start, 700, 1000]);
    for (const op of ['sum', 'avg'] as ReduceOp[]) {
      it(`allReduce ${op}, ${n} ranks: the slices reassemble the whole vector's result bit for bit`, async () => {
        const inputs = Array.from({ length: n }, (_, r) => testTensor(40 * n + r, length));
        const whole = await Promise.all(groups(n).map((g, r) => allReduce(g, inputs[r].slice(), op)));
        const gs = groups(n);
        const pieces = await Promise.all(
          gs.map(async (g, r) => {
            const out = new Float32Array(length);
            // all slices in flight at once, as buckets are
            await Promise.all(
              slices.map(async (s) => {
                const part = inputs[r].slice(s.start, s.end);
                out.set(await allReduce(g, part, op, { slice: { offset: s.start, total: length } }), s.start);
              }),
            );
            return out;
          }),
        );
        pieces.forEach((p, r) => expectBits(p, whole[0], `rank ${r}`));
        // the summation order matters for 3+ ranks: a plain all-reduce of one slice differs somewhere
        const plain = await Promise.all(groups(n).map((g, r) => allReduce(g, inputs[r].slice(200, 700), op)));
        expect(firstBitDifference(plain[0], whole[0].subarray(200, 700))).toBeGreaterThanOrEqual(0);
      });
    }

    it(`reduceScatter avg, ${n} ranks: each rank's slices of its own chunk equal its chunk of the whole`, async () => {
      const inputs = Array.from({ length: n }, (_, r) => testTensor(90 * n + r, length));
      const whole = await Promise.all(groups(n).map((g, r) => reduceScatter(g, inputs[r].slice(), 'avg')));
      const gs = groups(n);
      const own = chunkBounds(n, length);
      const got = await Promise.all(
        gs.map(async (g, r) => {
          const out = new Float32Array(own[r].end - own[r].start);
          for (const s of slices) {
            const mine = await reduceScatter(g, inputs[r].slice(s.start, s.end), 'avg', {
              slice: { offset: s.start, total: length },
            });
            const from = Math.max(s.start, own[r].start);
            expect(mine.length).toBe(Math.max(0, Math.min(s.end, own[r].end) - from));
            if (mine.length > 0) out.set(mine, from - own[r].start);
          }
          return out;
        }),
      );
      got.forEach((x, r) => expectBits(x, whole[r], `rank ${r}`));
    });
  }

  it('allGather of slices, 3 to 5 ranks: each rank fills its chunk, every rank ends with the whole slice', async () => {
    for (const n of [3, 4, 5]) {
      const total = 1031;
      const whole = testTensor(7 * n, total);
      const own = chunkBounds(n, total);
      for (const s of cut(total, [2, 3, 100, own[1].start, 1030])) {
        const got = await Promise.all(
          groups(n).map((g, r) => {
            const piece = new Float32Array(s.end - s.start).fill(Number.NaN);
            const from = Math.max(s.start, own[r].start),
              to = Math.min(s.end, own[r].end);
            if (to > from) piece.set(whole.subarray(from, to), from - s.start);
            return allGather(g, piece, { slice: { offset: s.start, total } });
          }),
        );
        got.forEach((x, r) =>
          expectBits(x, whole.subarray(s.start, s.end), `${n} ranks, rank ${r}, [${s.start}, ${s.end})`),
        );
      }
    }
  });

  it('names the slice when it lies outside its vector', async () => {
    const [g] = groups(1);
    await expect(allReduce(g, new Float32Array(4), 'sum', { slice: { offset: 8, total: 10 } })).rejects.toThrow(
      /slice \[8, 12\) lies outside a vector of 10/,
    );
  });
});
