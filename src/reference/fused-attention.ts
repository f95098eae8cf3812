// CPU reference (f64) of causal attention on per-head tensors, straight from the definition:
// forward o = softmax(scale · q kᵀ, causal) v with its log-sum-exp, and the backward.
// q, k, v, o, dO: (BH, T, hd)   lse: (BH, T)

function causalProbs(q: ArrayLike<number>, k: ArrayLike<number>, base: number, i: number, hd: number, scale: number) {
  const s = new Float64Array(i + 1);
  let m = -Infinity;
  for (let j = 0; j <= i; j++) {
    let dot = 0;
    for (let d = 0; d < hd; d++) dot += q[(base + i) * hd + d] * k[(base + j) * hd + d];
    s[j] = scale * dot;
    m = Math.max(m, s[j]);
  }
  let sum = 0;
  for (let j = 0; j <= i; j++) sum += Math.exp(s[j] - m);
  for (let j = 0; j <= i; j++) s[j] = Math.exp(s[j] - m) / sum;
  return { probs: s, lse: m + Math.log(sum) };
}

export function causalAttentionRef(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  BH: number,
  T: number,
  hd: number,
  scale: number,
): { o: Float64Array; lse: Float64Array } {
  const o = new Float64Array(BH * T * hd),
    lse = new Float64Array(BH * T);
  for (let bh = 0; bh < BH; bh++) {
    const base = bh * T;
    for (let i = 0; i < T; i++) {
      const { probs, lse: l } = causalProbs(q, k, base, i, hd, scale);
      lse[base + i] = l;
      for (let j = 0; j <= i; j++)
        for (let d = 0; d < hd; d++) o[(base + i) * hd + d] += probs[j] * v[(base + j) * hd + d];
    }
  }
  return { o, lse };
}

/** dq, dk, dv of causal attention given dO = dL/do */
export function causalAttentionBackwardRef(
  q: ArrayLike<number>,
  k: ArrayLike<number>,
  v: ArrayLike<number>,
  dO: ArrayLike<number>,
  BH: number,
  T: number,
  hd: number,
  scale: number,
): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const n = BH * T * hd;
  const dq = new Float64Array(n),
    dk = new Float64Array(n),
    dv = new Float64Array(n);
  for (let bh = 0; bh < BH; bh++) {
    const base = bh * T;
    for (let i = 0; i < T; i++) {
      const { probs } = causalProbs(q, k, base, i, hd, scale);
      // dP[j] = dO_i · v_j;  dS[j] = P[j] (dP[j] - Σ_l P[l] dP[l])
      const dP = new Float64Array(i + 1);
      let dot = 0;
      for (let j = 0; j <= i; j++) {
        for (let d = 0; d < hd; d++) dP[j] += dO[(base + i) * hd + d] * v[(base + j) * hd + d];
        dot += probs[j] * dP[j];
      }
      for (let j = 0; j <= i; j++) {
        const dS = probs[j] * (dP[j] - dot) * scale;
        for (let d = 0; d < hd; d++) {
          dv[(base + j) * hd + d] += probs[j] * dO[(base + i) * hd + d];
          dq[(base + i) * hd + d] += dS * k[(base + j) * hd + d];
          dk[(base + j) * hd + d] += dS * q[(base + i) * hd + d];
        }
      }
    }
  }
  return { dq, dk, dv };
}
