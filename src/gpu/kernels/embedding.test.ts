import { describe, expect, it } from 'vitest';
import { bucketCapacity, bucketTokens } from './embedding';

describe('bucketTokens', () => {
  it('groups positions by ascending token id, positions ascending within a bucket', () => {
    const tokens = Int32Array.from([5, 2, 5, 9, 2, 5]);
    const b = bucketTokens(tokens);
    const BT = tokens.length;
    expect(b.length).toBe(bucketCapacity(BT));
    expect(b[0]).toBe(3); // unique tokens
    expect(Array.from(b.slice(1, 10))).toEqual([2, 0, 2, 5, 2, 3, 9, 5, 1]); // (token, start, count)
    expect(Array.from(b.slice(1 + 3 * BT))).toEqual([1, 4, 0, 2, 5, 3]);
  });

  it('every position appears exactly once, under its own token', () => {
    const tokens = Int32Array.from({ length: 200 }, (_, i) => (i * 7919) % 37);
    const b = bucketTokens(tokens);
    const seen = new Set<number>();
    for (let u = 0; u < b[0]; u++) {
      const [tok, start, count] = [b[1 + 3 * u], b[2 + 3 * u], b[3 + 3 * u]];
      for (let k = 0; k < count; k++) {
        const pos = b[1 + 3 * 200 + start + k];
        expect(tokens[pos]).toBe(tok);
        seen.add(pos);
      }
    }
    expect(seen.size).toBe(200);
  });

  it('matches grouping by hand at a GPT vocabulary and 4,096 positions', () => {
    const BT = 4096;
    const tokens = Int32Array.from({ length: BT }, (_, i) => (i * 2654435761) % 50304);
    const byToken = new Map<number, number[]>();
    tokens.forEach((t, i) => byToken.set(t, [...(byToken.get(t) ?? []), i]));
    const ids = [...byToken.keys()].sort((a, b) => a - b);
    const b = bucketTokens(tokens);
    expect(b[0]).toBe(ids.length);
    let start = 0;
    ids.forEach((tok, u) => {
      const at = byToken.get(tok)!;
      expect([b[1 + 3 * u], b[2 + 3 * u], b[3 + 3 * u]]).toEqual([tok, start, at.length]);
      expect(Array.from(b.subarray(1 + 3 * BT + start, 1 + 3 * BT + start + at.length))).toEqual(at);
      start += at.length;
    });
  });
});

describe('bucketTokens over a vocab-parallel shard', () => {
  it("keeps only the shard's tokens, numbered from its first row", () => {
    const tokens = Int32Array.from([5, 2, 5, 9, 2, 7]);
    const b = bucketTokens(tokens, { start: 4, count: 4 }); // rows 4..7
    expect(b[0]).toBe(2);
    expect(Array.from(b.slice(1, 7))).toEqual([1, 0, 2, 3, 2, 1]); // token 5 → 1 at 0,2; token 7 → 3 at 5
    expect(Array.from(b.slice(1 + 3 * 6, 1 + 3 * 6 + 3))).toEqual([0, 2, 5]);
  });
});
