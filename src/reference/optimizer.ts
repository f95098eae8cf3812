// CPU reference (f64) for global-norm clipping + AdamW (torch.optim.AdamW semantics).

export interface AdamRefHyper {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  maxGradNorm: number;
}

export function squaredNormRef(g: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return s;
}

/** One step at 1-based step t with learning rate lr; updates p, m, v in place. */
export function adamwStepRef(
  p: Float64Array,
  m: Float64Array,
  v: Float64Array,
  grads: ArrayLike<number>,
  decayCount: number,
  lr: number,
  t: number,
  h: AdamRefHyper,
): void {
  const norm = Math.sqrt(squaredNormRef(grads));
  const clip = h.maxGradNorm > 0 ? Math.min(1, h.maxGradNorm / (norm + 1e-6)) : 1;
  const bc1 = 1 - h.beta1 ** t,
    bc2 = 1 - h.beta2 ** t;
  for (let i = 0; i < p.length; i++) {
    const g = grads[i] * clip;
    m[i] = h.beta1 * m[i] + (1 - h.beta1) * g;
    v[i] = h.beta2 * v[i] + (1 - h.beta2) * g * g;
    if (i < decayCount) p[i] *= 1 - lr * h.weightDecay;
    p[i] -= ((lr / bc1) * m[i]) / (Math.sqrt(v[i]) / Math.sqrt(bc2) + h.eps);
  }
}
