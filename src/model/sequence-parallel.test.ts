import { describe, expect, it } from 'vitest';
import { assembleSequence, rankMajor, seqPlace } from './sequence-parallel';

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

describe('sequence-parallel layout', () => {
  it('rank r holds positions [r·T/tp, (r+1)·T/tp) of every sample', () => {
    expect(seqPlace(3, 8, { size: 4, rank: 2 })).toEqual({ B: 3, T: 8, tp: 4, span: 2, first: 4, rows: 6 });
    expect(() => seqPlace(1, 6, { size: 4, rank: 0 })).toThrow(
      'sequence_parallel: seq_length 6 is not divisible by model_parallel_size 4',
    );
  });

  it('rank-major order puts each rank’s positions of every sample in one chunk', () => {
    // B 2, T 4, cols 1: sample 0 = [0 1 2 3], sample 1 = [4 5 6 7]; tp 2
    expect([...rankMajor(iota(8), 2, 4, 2)]).toEqual([0, 1, 4, 5, 2, 3, 6, 7]);
  });

  it('assembling the ranks’ parts inverts rank-major order', () => {
    const [B, T, C, tp] = [3, 8, 5, 4];
    const full = iota(B * T * C);
    const major = rankMajor(full, B, T, tp);
    const n = full.length / tp;
    const parts = Array.from({ length: tp }, (_, r) => major.subarray(r * n, (r + 1) * n));
    expect(assembleSequence(parts, B, T)).toEqual(full);
    // part r, sample b, local position t is full position r·T/tp + t
    expect(parts[2][(1 * 2 + 1) * C]).toBe(full[(1 * T + 2 * 2 + 1) * C]);
  });
});
