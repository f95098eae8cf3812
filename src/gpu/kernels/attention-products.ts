// The unfused causal attention's batched products over B·h matrices (the model's forward with
// probabilities, and the backward after it or after the fused forward), as matmul specs. The
// causal mask makes half of each moot, and MatmulCausal skips it: the scores and their gradient
// are read by the causal softmax only where j ≤ i, the probabilities P and score gradients dS are
// zero above the diagonal.
import type { MatmulSpec } from './matmul';

export interface AttentionProducts {
  /** S = Q·Kᵀ: q (BH, T, hd), k (BH, T, hd) → (BH, T, T), j > i left unspecified */
  scores: MatmulSpec;
  /** Y = P·V: (BH, T, T) · (BH, T, hd) → (BH, T, hd) */
  values: MatmulSpec;
  /** dP = dY·Vᵀ → (BH, T, T), j > i left unspecified */
  probsGrad: MatmulSpec;
  /** dV = Pᵀ·dY */
  valuesGrad: MatmulSpec;
  /** dQ = dS·K (the softmax backward has applied the scale to dS) */
  queriesGrad: MatmulSpec;
  /** dK = dSᵀ·Q */
  keysGrad: MatmulSpec;
}

/** Pure. */
export function attentionProducts(BH: number, T: number, hd: number): AttentionProducts {
  const scores: MatmulSpec = { batch: BH, M: T, N: T, K: hd, transB: true, causal: 'lowerOutput' };
  const values: MatmulSpec = { batch: BH, M: T, N: hd, K: T, causal: 'lowerA' };
  const transposed: MatmulSpec = { ...values, transA: true, causal: 'upperA' };
  return {
    scores,
    values,
    probsGrad: scores,
    valuesGrad: transposed,
    queriesGrad: values,
    keysGrad: transposed,
  };
}
