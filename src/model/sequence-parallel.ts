// Megatron's sequence parallelism on tabtron's token-major activations (B, T, C): inside the
// TP group, TP rank r holds positions [r·T/tp, (r+1)·T/tp) of every sample, (B, T/tp, C), in
// the LayerNorm, dropout and residual regions. The ring collectives cut a flat vector into tp
// contiguous chunks in rank order, so a whole (B, T, cols) tensor is put in rank-major order
// (tp, B, T/tp, cols) before a reduce-scatter, and an all-gather's rank-major result is put back.
// Pure functions on flat row-major arrays.
import type { TpPlace } from './tp-shard';

/** Where a sequence-parallel rank's part lies in a micro-batch of B samples of T positions. */
export interface SeqPlace {
  B: number;
  T: number;
  tp: number;
  /** positions per rank of each sample: T/tp */
  span: number;
  /** this rank's first position in each sample */
  first: number;
  /** token rows this rank holds: B·T/tp */
  rows: number;
}

export function seqPlace(B: number, T: number, tp: TpPlace): SeqPlace {
  if (T % tp.size !== 0)
    throw new Error(
      `sequence_parallel: seq_length ${T} is not divisible by model_parallel_size ${tp.size} (each TP rank holds seq_length / model_parallel_size positions)`,
    );
  const span = T / tp.size;
  return { B, T, tp: tp.size, span, first: tp.rank * span, rows: B * span };
}

/** full: (B, T, cols) → (tp, B, T/tp, cols): rank r's part is the r-th contiguous chunk. */
export function rankMajor(full: Float32Array, B: number, T: number, tp: number): Float32Array {
  const cols = full.length / (B * T),
    span = T / tp,
    run = span * cols;
  if (!Number.isInteger(cols) || !Number.isInteger(span))
    throw new Error(`rankMajor: ${full.length} values are not (B ${B}, T ${T}, cols) split ${tp} ways along T`);
  if (tp === 1 || B === 1) return full.slice();
  const out = new Float32Array(full.length);
  for (let r = 0; r < tp; r++)
    for (let b = 0; b < B; b++)
      out.set(full.subarray((b * T + r * span) * cols, (b * T + r * span) * cols + run), (r * B + b) * run);
  return out;
}

/** parts[r]: rank r's (B, T/tp, cols) → full (B, T, cols). */
export function assembleSequence(parts: readonly Float32Array[], B: number, T: number): Float32Array {
  const tp = parts.length,
    span = T / tp,
    cols = parts[0].length / (B * span),
    run = span * cols;
  if (!Number.isInteger(cols) || !Number.isInteger(span) || parts.some((p) => p.length !== parts[0].length))
    throw new Error(`assembleSequence: ${tp} parts of ${parts[0].length} values are not (B ${B}, T ${T}/${tp}, cols)`);
  const out = new Float32Array(B * T * cols);
  parts.forEach((p, r) => {
    for (let b = 0; b < B; b++) out.set(p.subarray(b * run, (b + 1) * run), (b * T + r * span) * cols);
  });
  return out;
}
