// Vocab-parallel cross-entropy's host side (Megatron's scheme, no rank ever holds the full
// logits): each TP rank holds logits for its vocabulary rows, computes its own log-sum-exp
// and the target's logit when it owns the target; these N-vectors are combined here.
import type { VocabRows } from '../gpu/kernels/embedding';

/** Targets renumbered within a shard: ignored (< 0) stay −1, owned ones become t − start, and a
 *  target held by another rank becomes NOT_OWNED (matches no column, so the backward leaves
 *  only the softmax term). */
export const NOT_OWNED = 0x7fffffff;

export function localTargets(targets: Int32Array, rows: VocabRows): Int32Array {
  return targets.map((t) => (t < 0 ? -1 : t >= rows.start && t < rows.start + rows.count ? t - rows.start : NOT_OWNED));
}

/**
 * lseParts: (tp, N) every rank's log-sum-exp over its shard, in TP rank order;
 * targetLogit: (N) the target logit summed over ranks (0 from ranks that do not own it);
 * ignored: (N) local targets (any rank's: −1 marks an ignored row).
 * Returns the global log-sum-exp (N) and per-row losses lse − logit[target] (0 where ignored).
 */
export function combineVocabParallel(
  lseParts: Float32Array,
  tp: number,
  targetLogit: Float32Array,
  targets: Int32Array,
): { lse: Float32Array; losses: Float32Array } {
  const N = targetLogit.length;
  if (lseParts.length !== tp * N)
    throw new Error(`combineVocabParallel: ${lseParts.length} log-sum-exp values for ${tp} ranks × ${N} rows`);
  const lse = new Float32Array(N),
    losses = new Float32Array(N);
  for (let row = 0; row < N; row++) {
    let m = -Infinity;
    for (let r = 0; r < tp; r++) m = Math.max(m, lseParts[r * N + row]);
    let s = 0;
    for (let r = 0; r < tp; r++) s += Math.exp(lseParts[r * N + row] - m);
    lse[row] = m + Math.log(s);
    losses[row] = targets[row] < 0 ? 0 : lse[row] - targetLogit[row];
  }
  return { lse, losses };
}
