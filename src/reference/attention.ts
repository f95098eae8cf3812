// CPU references (f64) for the attention pieces: QKV split with NeoX rotary, causal
// softmax and head merge/split, forward and backward.

export interface Rotary {
  dims: number;
  base: number;
}

/** angle table computed in f64: angle[t][i] = t · base^(-2i/dims) */
function angle(t: number, i: number, r: Rotary): number {
  return t * r.base ** ((-2 * i) / r.dims);
}

/** rotates (sign = +1) or un-rotates (sign = -1, the transpose) the first r.dims of vec in place */
function rotate(vec: Float64Array, t: number, r: Rotary | null, sign: 1 | -1): void {
  if (!r) return;
  const half = r.dims / 2;
  for (let i = 0; i < half; i++) {
    const c = Math.cos(angle(t, i, r)),
      s = sign * Math.sin(angle(t, i, r));
    const x1 = vec[i],
      x2 = vec[i + half];
    vec[i] = x1 * c - x2 * s;
    vec[i + half] = x2 * c + x1 * s;
  }
}

/** qkv: (B, T, H, 3, hd) → q, k, v: (B, H, T, hd); rotary on q, k */
export function qkvSplitRef(qkv: ArrayLike<number>, B: number, T: number, H: number, hd: number, r: Rotary | null) {
  const n = B * H * T * hd;
  const out = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  const vec = new Float64Array(hd);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++)
        for (let s = 0; s < 3; s++) {
          const src = (((b * T + t) * H + h) * 3 + s) * hd;
          for (let d = 0; d < hd; d++) vec[d] = qkv[src + d];
          if (s < 2) rotate(vec, t, r, 1);
          out[s].set(vec, ((b * H + h) * T + t) * hd);
        }
  return { q: out[0], k: out[1], v: out[2] };
}

/** dq, dk, dv: (B, H, T, hd) → dqkv: (B, T, H, 3, hd) */
export function qkvSplitBackwardRef(
  dq: ArrayLike<number>,
  dk: ArrayLike<number>,
  dv: ArrayLike<number>,
  B: number,
  T: number,
  H: number,
  hd: number,
  r: Rotary | null,
): Float64Array {
  const dqkv = new Float64Array(3 * B * H * T * hd);
  const vec = new Float64Array(hd);
  const grads = [dq, dk, dv];
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let h = 0; h < H; h++)
        for (let s = 0; s < 3; s++) {
          const src = ((b * H + h) * T + t) * hd;
          for (let d = 0; d < hd; d++) vec[d] = grads[s][src + d];
          if (s < 2) rotate(vec, t, r, -1);
          dqkv.set(vec, (((b * T + t) * H + h) * 3 + s) * hd);
        }
  return dqkv;
}

/** scores: (BH, T, T) → causal probs of softmax(scale · scores), zeros above the diagonal */
export function causalSoftmaxRef(scores: ArrayLike<number>, BH: number, T: number, scale: number): Float64Array {
  const out = new Float64Array(BH * T * T);
  for (let row = 0; row < BH * T; row++) {
    const i = row % T,
      base = row * T;
    let m = -Infinity;
    for (let j = 0; j <= i; j++) m = Math.max(m, scale * scores[base + j]);
    let s = 0;
    for (let j = 0; j <= i; j++) s += Math.exp(scale * scores[base + j] - m);
    for (let j = 0; j <= i; j++) out[base + j] = Math.exp(scale * scores[base + j] - m) / s;
  }
  return out;
}

/** probs, dprobs: (BH, T, T) → dscores */
export function causalSoftmaxBackwardRef(
  probs: ArrayLike<number>,
  dprobs: ArrayLike<number>,
  BH: number,
  T: number,
  scale: number,
): Float64Array {
  const out = new Float64Array(BH * T * T);
  for (let row = 0; row < BH * T; row++) {
    const i = row % T,
      base = row * T;
    let dot = 0;
    for (let j = 0; j <= i; j++) dot += probs[base + j] * dprobs[base + j];
    for (let j = 0; j <= i; j++) out[base + j] = scale * probs[base + j] * (dprobs[base + j] - dot);
  }
  return out;
}

/** y: (B, H, T, hd) → (B*T, H*hd) */
export function mergeHeadsRef(y: ArrayLike<number>, B: number, T: number, H: number, hd: number): Float64Array {
  const out = new Float64Array(B * T * H * hd);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let d = 0; d < hd; d++) {
          out[(b * T + t) * H * hd + h * hd + d] = y[((b * H + h) * T + t) * hd + d];
        }
  return out;
}

/** dout: (B*T, H*hd) → (B, H, T, hd) */
export function splitHeadsRef(dout: ArrayLike<number>, B: number, T: number, H: number, hd: number): Float64Array {
  const out = new Float64Array(B * T * H * hd);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < H; h++)
      for (let t = 0; t < T; t++)
        for (let d = 0; d < hd; d++) {
          out[((b * H + h) * T + t) * hd + d] = dout[(b * T + t) * H * hd + h * hd + d];
        }
  return out;
}
