// CPU references (f64) for token/position embeddings and their gradients.

/** tokens: (B*T) → (B*T, C) = wte[token] + wpe[t] (wpe optional) */
export function embeddingRef(
  tokens: ArrayLike<number>,
  wte: ArrayLike<number>,
  wpe: ArrayLike<number> | null,
  T: number,
  C: number,
): Float64Array {
  const out = new Float64Array(tokens.length * C);
  for (let i = 0; i < tokens.length; i++) {
    for (let c = 0; c < C; c++) out[i * C + c] = wte[tokens[i] * C + c] + (wpe ? wpe[(i % T) * C + c] : 0);
  }
  return out;
}

/** gradient of the token table: (V, C) */
export function embeddingBackwardRef(
  tokens: ArrayLike<number>,
  dout: ArrayLike<number>,
  V: number,
  C: number,
): Float64Array {
  const dwte = new Float64Array(V * C);
  for (let i = 0; i < tokens.length; i++) for (let c = 0; c < C; c++) dwte[tokens[i] * C + c] += dout[i * C + c];
  return dwte;
}

/** gradient of the position table rows t < T: (T, C) */
export function positionEmbeddingBackwardRef(dout: ArrayLike<number>, B: number, T: number, C: number): Float64Array {
  const dwpe = new Float64Array(T * C);
  for (let b = 0; b < B; b++) for (let i = 0; i < T * C; i++) dwpe[i] += dout[b * T * C + i];
  return dwpe;
}
