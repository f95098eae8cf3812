// CPU reference (f64) for softmax cross-entropy with ignored targets (< 0).

export interface CrossEntropyRef {
  losses: Float64Array;
  lse: Float64Array;
  dlogits: Float64Array;
}

/** logits: (N, V), targets: (N); dlogits = scale·(softmax - onehot), zero rows where target < 0 */
export function crossEntropyRef(
  logits: ArrayLike<number>,
  targets: ArrayLike<number>,
  N: number,
  V: number,
  scale: number,
): CrossEntropyRef {
  const losses = new Float64Array(N),
    lse = new Float64Array(N),
    dlogits = new Float64Array(N * V);
  for (let r = 0; r < N; r++) {
    let m = -Infinity;
    for (let j = 0; j < V; j++) m = Math.max(m, logits[r * V + j]);
    let s = 0;
    for (let j = 0; j < V; j++) s += Math.exp(logits[r * V + j] - m);
    lse[r] = m + Math.log(s);
    const t = targets[r];
    if (t < 0) continue;
    losses[r] = lse[r] - logits[r * V + t];
    for (let j = 0; j < V; j++) dlogits[r * V + j] = scale * (Math.exp(logits[r * V + j] - lse[r]) - (j === t ? 1 : 0));
  }
  return { losses, lse, dlogits };
}
