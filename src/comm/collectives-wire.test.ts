// Collectives whose messages carry 16-bit values (mixed precision's `wire`): the bytes each rank
// sends are exactly 2 per value moved (half of f32's), the sums are kept in f32 (a reference that
// adds the rounded messages in ring order gives the same bits), an all-reduce leaves every rank
// the same values, and an all-gather delivers the others' pieces rounded as the encoder rounds.
import { describe, expect, it } from 'vitest';
import { decodeHalf, encodeHalf } from './compress/half-wire';
import { allGather, allReduce, reduceScatter, roundToWire } from './collectives';
import { Group } from './group';
import { createLoopbackWorld, type LoopbackTransport } from './loopback';
import { firstBitDifference } from './reference';
import { ringPlan } from './ring-plan';
import { testTensor } from './test-helpers';

function world(n: number): { groups: Group[]; transports: LoopbackTransport[] } {
  const ranks = Array.from({ length: n }, (_, r) => r);
  const { transports } = createLoopbackWorld(n);
  return { transports, groups: transports.map((t) => new Group(t, ranks, 'dp')) };
}

const sent = (t: LoopbackTransport) => t.meter.totals().reduce((a, s) => a + s.bytesSent, 0);
const rounded = (format: 'fp16' | 'bf16', x: Float32Array) => decodeHalf(format, encodeHalf(format, x), x.length);

/** What rank `rank` keeps of a ring reduce-scatter whose messages are rounded: the partial sum
 *  of its chunk as it travels from rank+1 round to rank, each hop rounded, added in f32. */
function ringReduceRef(inputs: Float32Array[], rank: number, format: 'fp16' | 'bf16'): Float32Array {
  const n = inputs.length;
  const { start, end } = ringPlan(n, rank, inputs[0].length).chunks[rank];
  let acc = inputs[(rank + 1) % n].slice(start, end);
  for (let k = 2; k <= n; k++) {
    const r = (rank + k) % n;
    const incoming = rounded(format, acc);
    acc = inputs[r].slice(start, end);
    for (let i = 0; i < acc.length; i++) acc[i] = incoming[i] + acc[i];
  }
  return acc;
}

describe('collectives with a 16-bit wire', () => {
  const length = 1031;
  for (const format of ['bf16', 'fp16'] as const)
    for (const n of [2, 3]) {
      it(`${format}, ${n} ranks: reduceScatter sends 2 bytes a value and adds in f32`, async () => {
        const inputs = Array.from({ length: n }, (_, r) => testTensor(7 * n + r, length).map((x) => x / 1e3));
        const f32 = world(n);
        await Promise.all(f32.groups.map((g, r) => reduceScatter(g, inputs[r].slice(), 'sum')));
        const half = world(n);
        const got = await Promise.all(
          half.groups.map((g, r) => reduceScatter(g, inputs[r].slice(), 'sum', { wire: format })),
        );
        half.transports.forEach((t, r) => {
          // the plan's reduce-scatter sends: each of those chunks once, 2 bytes a value
          const plan = ringPlan(n, r, length);
          const values = plan.reduceScatter.reduce(
            (a, s) => a + plan.chunks[s.send].end - plan.chunks[s.send].start,
            0,
          );
          expect(sent(t)).toBe(2 * values);
          expect(sent(t)).toBe(sent(f32.transports[r]) / 2);
          const want = ringReduceRef(inputs, r, format);
          expect(firstBitDifference(got[r], want), `rank ${r}`).toBe(-1);
        });
      });

      it(`${format}, ${n} ranks: allReduce leaves every rank the same rounded sum at half the bytes`, async () => {
        const inputs = Array.from({ length: n }, (_, r) => testTensor(11 * n + r, length).map((x) => x / 1e3));
        const f32 = world(n);
        await Promise.all(f32.groups.map((g, r) => allReduce(g, inputs[r].slice(), 'avg')));
        const half = world(n);
        const got = await Promise.all(
          half.groups.map((g, r) => allReduce(g, inputs[r].slice(), 'avg', { wire: format })),
        );
        for (let r = 0; r < n; r++) {
          expect(sent(half.transports[r])).toBe(sent(f32.transports[r]) / 2);
          expect(firstBitDifference(got[r], got[0]), `rank ${r}`).toBe(-1);
          const { start, end } = ringPlan(n, r, length).chunks[r];
          const own = ringReduceRef(inputs, r, format).map((x) => x / n);
          expect(firstBitDifference(got[r].subarray(start, end), rounded(format, own))).toBe(-1);
        }
      });

      it(`${format}, ${n} ranks: allGather keeps the own piece, the others' arrive rounded`, async () => {
        const pieces = Array.from({ length: n }, (_, r) => testTensor(13 * n + r, 257));
        const half = world(n);
        const got = await Promise.all(half.groups.map((g, r) => allGather(g, pieces[r], { wire: format })));
        for (let r = 0; r < n; r++) {
          expect(sent(half.transports[r])).toBe(2 * 257 * (n - 1));
          for (let q = 0; q < n; q++) {
            const part = got[r].subarray(q * 257, (q + 1) * 257);
            const want = q === r ? pieces[q] : rounded(format, pieces[q]);
            expect(firstBitDifference(part, want), `rank ${r}, piece ${q}`).toBe(-1);
          }
        }
      });
    }

  it('roundToWire is what a receiver decodes', () => {
    const x = testTensor(5, 100);
    const y = x.slice();
    roundToWire('bf16', y);
    expect(firstBitDifference(y, rounded('bf16', x))).toBe(-1);
    expect(firstBitDifference(y, x)).toBeGreaterThanOrEqual(0);
  });
});
