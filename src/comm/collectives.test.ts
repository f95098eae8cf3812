import { describe, expect, it } from 'vitest';
import { allGather, allReduce, barrier, broadcast, reduceScatter, type ReduceOp } from './collectives';
import { Group } from './group';
import { createLoopbackWorld } from './loopback';
import { firstBitDifference, referenceAllGather, referenceAllReduce, referenceReduceScatter } from './reference';
import { testTensor } from './test-helpers';
import { CommError } from './transport';

const SIZES = [1, 2, 3, 4, 5, 6, 7, 8];
const lengthsFor = (n: number) => [...new Set([0, 1, n - 1, n + 1, 7, 1031])];

function groups(n: number): Group[] {
  return createLoopbackWorld(n).transports.map(
    (t) =>
      new Group(
        t,
        Array.from({ length: n }, (_, r) => r),
      ),
  );
}

function expectBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, what).toBe(want.length);
  const i = firstBitDifference(got, want);
  expect(i, `${what}: first difference at ${i}: ${got[i]} vs ${want[i]}`).toBe(-1);
}

describe('collectives on the loopback transport, bit-exact against the CPU reference', () => {
  for (const n of SIZES) {
    for (const length of lengthsFor(n)) {
      for (const op of ['sum', 'avg'] as ReduceOp[]) {
        it(`allReduce ${op}: ${n} ranks, ${length} elements`, async () => {
          const inputs = Array.from({ length: n }, (_, r) => testTensor(100 * n + r, length));
          const want = referenceAllReduce(inputs, op);
          const got = await Promise.all(groups(n).map((g, r) => allReduce(g, inputs[r].slice(), op)));
          got.forEach((x, r) => expectBits(x, want, `rank ${r}`));
        });
      }

      it(`reduceScatter sum: ${n} ranks, ${length} elements`, async () => {
        const inputs = Array.from({ length: n }, (_, r) => testTensor(200 * n + r, length));
        const want = referenceReduceScatter(inputs, 'sum');
        const got = await Promise.all(groups(n).map((g, r) => reduceScatter(g, inputs[r].slice(), 'sum')));
        got.forEach((x, r) => expectBits(x, want[r], `rank ${r}`));
      });

      it(`broadcast from the last rank: ${n} ranks, ${length} elements`, async () => {
        const inputs = Array.from({ length: n }, (_, r) => testTensor(300 * n + r, length));
        const got = await Promise.all(
          groups(n).map((g, r) => broadcast(g, inputs[r].slice(), n - 1, { segmentBytes: 64 })),
        );
        got.forEach((x, r) => expectBits(x, inputs[n - 1], `rank ${r}`));
      });
    }

    for (const piece of [0, 1, 5, 333]) {
      it(`allGather: ${n} ranks, pieces of ${piece}`, async () => {
        const pieces = Array.from({ length: n }, (_, r) => testTensor(400 * n + r, piece));
        const want = referenceAllGather(pieces);
        const got = await Promise.all(groups(n).map((g, r) => allGather(g, pieces[r])));
        got.forEach((x, r) => expectBits(x, want, `rank ${r}`));
      });
    }

    it(`barrier: ${n} ranks leave only after the last one arrived`, async () => {
      const events: string[] = [];
      await Promise.all(
        groups(n).map(async (g, r) => {
          await new Promise((res) => setTimeout(res, r === n - 1 ? 30 : 0));
          events.push(`enter ${r}`);
          await barrier(g);
          events.push(`leave ${r}`);
        }),
      );
      const lastEnter = events.lastIndexOf(`enter ${n - 1}`);
      expect(events.slice(0, lastEnter + 1).every((e) => e.startsWith('enter'))).toBe(true);
    });
  }

  it('the reference order matters: a naive left-to-right sum differs in some bits', () => {
    const inputs = Array.from({ length: 5 }, (_, r) => testTensor(7 + r, 4096));
    const naive = new Float32Array(4096);
    for (let i = 0; i < naive.length; i++) {
      let acc = inputs[0][i];
      for (let k = 1; k < 5; k++) acc = Math.fround(acc + inputs[k][i]);
      naive[i] = acc;
    }
    expect(firstBitDifference(naive, referenceAllReduce(inputs))).toBeGreaterThanOrEqual(0);
  });

  it('runs collectives over subgroups of one transport (TP and DP groups interleaved)', async () => {
    const world = createLoopbackWorld(4);
    const tp = (r: number) => (r < 2 ? [0, 1] : [2, 3]);
    const dp = (r: number) => (r % 2 === 0 ? [0, 2] : [1, 3]);
    const inputs = [0, 1, 2, 3].map((r) => testTensor(50 + r, 101));
    const results = await Promise.all(
      world.transports.map(async (t, r) => {
        const [a, b] = await Promise.all([
          allReduce(new Group(t, tp(r), `tp${tp(r)[0]}`), inputs[r].slice()),
          allReduce(new Group(t, dp(r), `dp${dp(r)[0]}`), inputs[r].slice()),
        ]);
        return { a, b };
      }),
    );
    results.forEach(({ a, b }, r) => {
      expectBits(a, referenceAllReduce(tp(r).map((q) => inputs[q])), `tp rank ${r}`);
      expectBits(b, referenceAllReduce(dp(r).map((q) => inputs[q])), `dp rank ${r}`);
    });
  });
});

describe('collective failures', () => {
  it('a rank that disconnects mid all-reduce fails every other member with an error naming it', async () => {
    const world = createLoopbackWorld(4);
    const gs = world.transports.map((t) => new Group(t, [0, 1, 2, 3]));
    const runs = gs.slice(0, 3).map((g, r) => allReduce(g, testTensor(r, 1000), 'sum', { timeoutMs: 10_000 }));
    setTimeout(() => world.disconnect(3), 20);
    const started = Date.now();
    for (const run of runs) {
      const err = await run.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(CommError);
      expect((err as CommError).peer).toBe(3);
      expect((err as Error).message).toMatch(/allReduce .*rank 3.*peer lost/);
    }
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a member that never joins makes the others time out naming the peer and the operation', async () => {
    const gs = createLoopbackWorld(3).transports.map((t) => new Group(t, [0, 1, 2]));
    const err = await Promise.all([
      allReduce(gs[0], testTensor(1, 30), 'sum', { timeoutMs: 200 }),
      allReduce(gs[1], testTensor(2, 30), 'sum', { timeoutMs: 200 }),
    ]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(CommError);
    expect(err?.message).toMatch(/allReduce '\[0,1,2\]:allReduce#0'.*timed out after 200 ms/);
  });

  it('members that disagree on the length fail with a size error, not wrong data', async () => {
    const gs = createLoopbackWorld(2).transports.map((t) => new Group(t, [0, 1]));
    const results = await Promise.allSettled([
      allReduce(gs[0], new Float32Array(10), 'sum', { timeoutMs: 500 }),
      allReduce(gs[1], new Float32Array(12), 'sum', { timeoutMs: 500 }),
    ]);
    const reasons = results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'fulfilled'));
    expect(
      reasons.some((m) => /bytes, expected/.test(m)),
      reasons.join('\n'),
    ).toBe(true);
    expect(reasons).not.toContain('fulfilled');
  });

  it('rejects a group that does not contain this rank, or a broadcast root outside the group', async () => {
    const [t0] = createLoopbackWorld(3).transports;
    expect(() => new Group(t0, [1, 2])).toThrow(/not a member/);
    expect(() => new Group(t0, [0, 0])).toThrow(/repeated/);
    expect(() => new Group(t0, [0, 5])).toThrow(/outside world/);
    await expect(broadcast(new Group(t0, [0, 1]), new Float32Array(2), 2)).rejects.toThrow(
      /root rank 2 is not in group/,
    );
  });
});
