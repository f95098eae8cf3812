// CPU references for the collectives. They define the summation order: chunk c of
// `chunkBounds(n, length)` is summed over positions c+1, c+2, …, c (mod n) in f32, and
// 'avg' divides that sum by n — exactly what the ring does, so results are bit-exact.

import type { ReduceOp } from './collectives';
import { chunkBounds, reductionOrder } from './ring-plan';

/** inputs[p]: the data of group position p, all of one length */
export function referenceAllReduce(inputs: readonly Float32Array[], op: ReduceOp = 'sum'): Float32Array {
  const n = inputs.length;
  const length = inputs[0]?.length ?? 0;
  for (const [p, x] of inputs.entries()) {
    if (x.length !== length)
      throw new Error(`referenceAllReduce: input ${p} has ${x.length} elements, input 0 has ${length}`);
  }
  const out = new Float32Array(length);
  chunkBounds(n, length).forEach(({ start, end }, c) => {
    const order = reductionOrder(n, c);
    for (let i = start; i < end; i++) {
      let acc = inputs[order[0]][i];
      for (let k = 1; k < n; k++) acc = Math.fround(acc + inputs[order[k]][i]);
      out[i] = op === 'avg' ? Math.fround(acc / n) : acc;
    }
  });
  return out;
}

/** The chunk of the all-reduced result that each position keeps. */
export function referenceReduceScatter(inputs: readonly Float32Array[], op: ReduceOp = 'sum'): Float32Array[] {
  const full = referenceAllReduce(inputs, op);
  return chunkBounds(inputs.length, full.length).map(({ start, end }) => full.slice(start, end));
}

export function referenceAllGather(pieces: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(pieces.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bit-level comparison (distinguishes -0 from 0 and NaN payloads); returns the first differing index or -1. */
export function firstBitDifference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return i;
  return -1;
}
