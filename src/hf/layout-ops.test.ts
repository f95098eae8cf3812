import { describe, expect, it } from 'vitest';
import { qkvInterleavedToSplit, qkvSplitToInterleaved, splitRowOf, transpose } from './layout-ops';

describe('QKV layouts', () => {
  // H = 2 heads, hd = 2: tabtron/NeoX/HF GPTNeoX rows are per head [q0 q1 k0 k1 v0 v1] for head 0,
  // then head 1; GPT-2's c_attn rows are [Q(head0) Q(head1) | K(head0) K(head1) | V(head0) V(head1)].
  const names = [
    'q.h0.0',
    'q.h0.1',
    'k.h0.0',
    'k.h0.1',
    'v.h0.0',
    'v.h0.1',
    'q.h1.0',
    'q.h1.1',
    'k.h1.0',
    'k.h1.1',
    'v.h1.0',
    'v.h1.1',
  ];
  const split = [
    'q.h0.0',
    'q.h0.1',
    'q.h1.0',
    'q.h1.1',
    'k.h0.0',
    'k.h0.1',
    'k.h1.0',
    'k.h1.1',
    'v.h0.0',
    'v.h0.1',
    'v.h1.0',
    'v.h1.1',
  ];

  it('moves each interleaved row to its place in [Q | K | V] (hand-computed, H=2, hd=2)', () => {
    expect(names.map((_, i) => splitRowOf(i, 2, 2))).toEqual(names.map((n) => split.indexOf(n)));
    const bias = Float32Array.from(names.keys());
    const out = qkvInterleavedToSplit(bias, 2, 2);
    expect([...out].map((i) => names[i])).toEqual(split);
  });

  it('keeps whole rows of a weight together and inverts exactly', () => {
    const cols = 3;
    const w = Float32Array.from({ length: 12 * cols }, (_, i) => i + 0.5);
    const s = qkvInterleavedToSplit(w, 2, 2, cols);
    // row "k.h1.0" (interleaved row 8) lands at split row 6
    expect([...s.subarray(6 * cols, 7 * cols)]).toEqual([...w.subarray(8 * cols, 9 * cols)]);
    expect([...qkvSplitToInterleaved(s, 2, 2, cols)]).toEqual([...w]);
  });

  it('transposes (rows, cols) to (cols, rows)', () => {
    expect([...transpose(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3)]).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => transpose(new Float32Array(5), 2, 3)).toThrow('5 values for (2, 3)');
  });
});
