import { describe, expect, it } from 'vitest';
import { createLoopbackWorld } from '../loopback';
import { firstBitDifference, referenceAllReduce } from '../reference';
import { testTensor } from '../test-helpers';
import { compressedAllReduce, transportP2P } from './compressed-ring';
import { f32Codec, int8Codec, type WireCodec } from './wire-codec';

function world(n: number) {
  const w = createLoopbackWorld(n);
  return { p2p: w.transports.map((t) => transportP2P(t, 5000)), ranks: w.transports.map((t) => t.rank), w };
}

async function run(
  n: number,
  inputs: Float32Array[],
  codec: WireCodec,
  op: 'sum' | 'avg',
  tag: string,
  residuals?: Float32Array[],
  w = world(n),
): Promise<Float32Array[]> {
  return Promise.all(
    w.p2p.map((p, r) =>
      compressedAllReduce(p, w.ranks, inputs[r].slice(), { codec, op, tag, residual: residuals?.[r] }),
    ),
  );
}

const expectSameBits = (a: Float32Array, b: Float32Array, what: string) =>
  expect(firstBitDifference(a, b), what).toBe(-1);

describe('compressed ring all-reduce over the loopback transport', () => {
  for (const n of [1, 2, 3, 4, 6]) {
    for (const length of [0, 1, n + 1, 1031]) {
      it(`f32 on the wire equals allReduce bit for bit: ${n} ranks, ${length} values`, async () => {
        for (const op of ['sum', 'avg'] as const) {
          const inputs = Array.from({ length: n }, (_, r) => testTensor(50 * n + r, length));
          const got = await run(n, inputs, f32Codec, op, `t${op}`);
          got.forEach((g, r) => expectSameBits(g, referenceAllReduce(inputs, op), `rank ${r} ${op}`));
        }
      });
    }

    it(`int8: ${n} ranks agree bit for bit and each value is within the quantisation bound`, async () => {
      const length = 2000,
        block = 64;
      const inputs = Array.from({ length: n }, (_, r) => testTensor(70 * n + r, length));
      const got = await run(n, inputs, int8Codec(block), 'avg', 'q');
      for (const g of got.slice(1)) expectSameBits(g, got[0], 'ranks differ');
      const want = referenceAllReduce(inputs, 'avg');
      // a mean's error is (n-1 partial-sum roundings)/n + one rounding of the mean, each at most
      // half a step of a block (blocks start at chunk starts) whose values are at most Σ_ranks |x|
      const absSum = Array.from({ length }, (_, i) => inputs.reduce((a, x) => a + Math.abs(x[i]), 0));
      for (let i = 0; i < length; i++) {
        const near = absSum.slice(Math.max(0, i - block), i + block);
        const bound = (Math.max(...near) / 254) * (1 + 1e-5);
        expect(Math.abs(got[0][i] - want[i]), `value ${i}`).toBeLessThanOrEqual(bound);
      }
    });
  }

  it('int8 sends about a quarter of the f32 bytes', () => {
    expect(int8Codec(256).bytes(1 << 20) / f32Codec.bytes(1 << 20)).toBeCloseTo(0.25 + 1 / 256, 6);
  });

  it('with error feedback the sum over rounds of the results tracks the sum of the exact means', async () => {
    const n = 4,
      length = 600,
      rounds = 150;
    const codec = int8Codec(32);
    const w = world(n);
    const residuals = Array.from({ length: n }, () => new Float32Array(length));
    const exact = new Float64Array(length),
      withEf = new Float64Array(length),
      without = new Float64Array(length);
    for (let r = 0; r < rounds; r++) {
      const inputs = Array.from({ length: n }, (_, k) => {
        const x = testTensor(1000 * r + k, length);
        x.fill(0, 0, 32); // block 0: one value of 1 sets the step, and a value far below it
        x[0] = 1;
        x[5] = 1e-3;
        return x;
      });
      const want = referenceAllReduce(inputs, 'avg');
      const ef = await run(n, inputs, codec, 'avg', `ef${r}`, residuals, w);
      const plain = await run(n, inputs, codec, 'avg', `plain${r}`, undefined, w);
      for (const g of ef.slice(1)) expectSameBits(g, ef[0], `round ${r}: ranks differ`);
      for (let i = 0; i < length; i++) {
        exact[i] += want[i];
        withEf[i] += ef[0][i];
        without[i] += plain[0][i];
      }
    }
    // Σ results = Σ exact means − what the residuals still hold: the owner's (mean units) plus
    // the others' partial-sum residuals / n. Exact but for f32 rounding; never growing with rounds.
    const chunk = (i: number) => Math.floor(i / (length / n));
    for (let i = 0; i < length; i++) {
      const owed = residuals.reduce((a, res, p) => a + (p === chunk(i) ? res[i] : res[i] / n), 0);
      expect(Math.abs(withEf[i] - exact[i] + owed), `value ${i}`).toBeLessThan(1e-4 * (1 + Math.abs(exact[i])));
    }
    // a value far below its block's step: lost every round without feedback, delivered with it
    expect(Math.abs(without[5] - exact[5])).toBeGreaterThan(0.99 * rounds * 1e-3);
    expect(Math.abs(withEf[5] - exact[5])).toBeLessThan(0.2 * rounds * 1e-3);
  });

  it('fails with the transport error naming the peer when a member is gone', async () => {
    const w = world(3);
    w.w.disconnect(2);
    const data = new Float32Array(30).fill(1);
    await expect(compressedAllReduce(w.p2p[0], w.ranks, data, { codec: int8Codec(8), tag: 'gone' })).rejects.toThrow(
      /rank 0 ⇄ rank 2|rank 2/,
    );
  });

  it('refuses a rank outside the group and a residual of the wrong length', async () => {
    const w = world(2);
    await expect(
      compressedAllReduce(w.p2p[0], [1], new Float32Array(4), { codec: f32Codec, tag: 'x' }),
    ).rejects.toThrow("compressedAllReduce 'x': rank 0 is not in [1]");
    await expect(
      compressedAllReduce(w.p2p[0], w.ranks, new Float32Array(4), {
        codec: int8Codec(8),
        tag: 'y',
        residual: new Float32Array(3),
      }),
    ).rejects.toThrow('residual has 3 values, data 4');
  });
});
