import { describe, expect, it } from 'vitest';
import { crossEntropyRef } from '../reference/crossentropy';
import { randint, randn } from '../util/rng';
import { combineVocabParallel, localTargets, NOT_OWNED } from './vocab-parallel';

/** The CPU reference's log-sum-exp and target logit of one vocabulary shard. */
function shardStats(logits: Float32Array, targets: Int32Array, N: number, V: number, start: number, count: number) {
  const part = new Float32Array(N * count);
  for (let r = 0; r < N; r++) part.set(logits.subarray(r * V + start, r * V + start + count), r * count);
  const local = localTargets(targets, { start, count });
  const { lse } = crossEntropyRef(part, new Int32Array(N).fill(-1), N, count, 1);
  const tl = Float32Array.from(local, (t, r) => (t >= 0 && t < count ? part[r * count + t] : 0));
  return { lse: Float32Array.from(lse), tl, local };
}

describe('vocab-parallel cross-entropy', () => {
  it('renumbers targets within a shard', () => {
    expect(Array.from(localTargets(Int32Array.from([-1, 3, 4, 7, 8, -100]), { start: 4, count: 4 }))).toEqual([
      -1,
      NOT_OWNED,
      0,
      3,
      NOT_OWNED,
      -1,
    ]);
  });

  it.each([2, 4])('combining %i shards gives the full-vocabulary loss and log-sum-exp', (tp) => {
    const N = 9,
      V = 48,
      count = V / tp;
    const logits = randn(N * V, 11, 4);
    const targets = randint(N, V, 12);
    targets[2] = -1;
    const want = crossEntropyRef(logits, targets, N, V, 1);
    const lseParts = new Float32Array(tp * N),
      tl = new Float32Array(N);
    let local: Int32Array = new Int32Array(N);
    for (let r = 0; r < tp; r++) {
      const s = shardStats(logits, targets, N, V, r * count, count);
      lseParts.set(s.lse, r * N);
      s.tl.forEach((x, i) => {
        tl[i] += x;
      });
      local = s.local;
    }
    const got = combineVocabParallel(lseParts, tp, tl, local);
    got.lse.forEach((x, i) => expect(Math.abs(x - want.lse[i])).toBeLessThan(1e-5));
    got.losses.forEach((x, i) => expect(Math.abs(x - want.losses[i])).toBeLessThan(1e-5));
    expect(got.losses[2]).toBe(0);
  });

  it('names the mismatch when the gathered sizes disagree', () => {
    expect(() => combineVocabParallel(new Float32Array(5), 2, new Float32Array(3), new Int32Array(3))).toThrow(
      /5 log-sum-exp values for 2 ranks × 3 rows/,
    );
  });
});
