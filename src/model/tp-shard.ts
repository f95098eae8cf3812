// How one tensor splits across the tensor-parallel group (Megatron's layouts), as pure
// functions on flat row-major arrays:
//   column  W (out, in), b (out): rank r holds rows [r·out/tp, (r+1)·out/tp)
//           (QKV's NeoX per-head [q|k|v] row order makes that a whole set of heads)
//   row     W (out, in): rank r holds columns [r·in/tp, (r+1)·in/tp)
//   vocab   (V, C): rank r holds vocabulary rows [r·V/tp, (r+1)·V/tp)
//   replicated: every rank holds all of it
import type { TpSplit } from './params';

export interface TpPlace {
  size: number;
  rank: number;
}

export const NO_TP: TpPlace = { size: 1, rank: 0 };

function divide(what: string, n: number, tp: number): number {
  if (n % tp !== 0) throw new Error(`${what} (${n}) is not divisible by model_parallel_size ${tp}`);
  return n / tp;
}

/** The shape one rank holds of a tensor of `full` shape. */
export function localShape(split: TpSplit, full: readonly number[], tp: number, name = 'tensor'): number[] {
  if (tp === 1 || split === 'replicated') return [...full];
  if (split === 'row') {
    if (full.length !== 2) throw new Error(`${name}: a row-parallel tensor must be 2-D, got [${full}]`);
    return [full[0], divide(`${name} input size`, full[1], tp)];
  }
  return [divide(`${name} ${split === 'vocab' ? 'vocabulary' : 'output'} size`, full[0], tp), ...full.slice(1)];
}

/** Vocabulary rows [start, start + count) held by a rank of a (V, C) vocab-parallel table. */
export function vocabRange(V: number, tp: TpPlace): { start: number; count: number } {
  const count = divide('padded vocabulary', V, tp.size);
  return { start: tp.rank * count, count };
}

/** Rank `tp.rank`'s piece of a full tensor. */
export function shardTensor(
  split: TpSplit,
  fullShape: readonly number[],
  full: Float32Array,
  tp: TpPlace,
): Float32Array {
  if (tp.size === 1 || split === 'replicated') return full.slice();
  const local = localShape(split, fullShape, tp.size);
  if (split === 'row') {
    const [rows, cols] = fullShape,
      lc = local[1];
    const out = new Float32Array(rows * lc);
    for (let i = 0; i < rows; i++)
      out.set(full.subarray(i * cols + tp.rank * lc, i * cols + (tp.rank + 1) * lc), i * lc);
    return out;
  }
  const n = local.reduce((a, b) => a * b, 1);
  return full.slice(tp.rank * n, (tp.rank + 1) * n);
}

/** The full tensor from every rank's piece, in TP rank order (inverse of shardTensor). */
export function unshardTensor(
  split: TpSplit,
  fullShape: readonly number[],
  shards: readonly Float32Array[],
): Float32Array {
  const tp = shards.length;
  if (tp === 1 || split === 'replicated') return shards[0].slice();
  const full = new Float32Array(fullShape.reduce((a, b) => a * b, 1));
  if (split === 'row') {
    const [rows, cols] = fullShape,
      lc = cols / tp;
    shards.forEach((s, r) => {
      for (let i = 0; i < rows; i++) full.set(s.subarray(i * lc, (i + 1) * lc), i * cols + r * lc);
    });
    return full;
  }
  let at = 0;
  for (const s of shards) {
    full.set(s, at);
    at += s.length;
  }
  return full;
}
