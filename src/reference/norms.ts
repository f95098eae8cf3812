// CPU references (f64) for LayerNorm and RMSNorm, forward and backward.
// Backward results are returned as fresh gradients (the kernels add them onto their outputs).

export interface LayernormFwd {
  out: Float64Array;
  mean: Float64Array;
  rstd: Float64Array;
}

/** inp: (N, C), weight/bias: (C) */
export function layernormRef(
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  bias: ArrayLike<number>,
  N: number,
  C: number,
  eps: number,
): LayernormFwd {
  const out = new Float64Array(N * C),
    mean = new Float64Array(N),
    rstd = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[r * C + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (inp[r * C + c] - m) ** 2;
    const rs = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) out[r * C + c] = (inp[r * C + c] - m) * rs * weight[c] + bias[c];
    mean[r] = m;
    rstd[r] = rs;
  }
  return { out, mean, rstd };
}

export interface NormGrads {
  dinp: Float64Array;
  dweight: Float64Array;
  dbias: Float64Array;
}

/** Gradients of sum(dout · layernorm(inp)), recomputing mean/rstd in f64. */
export function layernormBackwardRef(
  dout: ArrayLike<number>,
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  N: number,
  C: number,
  eps: number,
): NormGrads {
  const { mean, rstd } = layernormRef(inp, weight, new Float64Array(C), N, C, eps);
  const dinp = new Float64Array(N * C),
    dweight = new Float64Array(C),
    dbias = new Float64Array(C);
  for (let r = 0; r < N; r++) {
    let s1 = 0,
      s2 = 0;
    for (let c = 0; c < C; c++) {
      const dn = dout[r * C + c] * weight[c],
        xh = (inp[r * C + c] - mean[r]) * rstd[r];
      s1 += dn;
      s2 += dn * xh;
      dweight[c] += dout[r * C + c] * xh;
      dbias[c] += dout[r * C + c];
    }
    for (let c = 0; c < C; c++) {
      const dn = dout[r * C + c] * weight[c],
        xh = (inp[r * C + c] - mean[r]) * rstd[r];
      dinp[r * C + c] = rstd[r] * (dn - s1 / C - (xh * s2) / C);
    }
  }
  return { dinp, dweight, dbias };
}

/** inp: (N, C), weight: (C) */
export function rmsnormRef(
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  N: number,
  C: number,
  eps: number,
): { out: Float64Array; rstd: Float64Array } {
  const out = new Float64Array(N * C),
    rstd = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += inp[r * C + c] ** 2;
    const rs = 1 / Math.sqrt(ss / C + eps);
    for (let c = 0; c < C; c++) out[r * C + c] = inp[r * C + c] * rs * weight[c];
    rstd[r] = rs;
  }
  return { out, rstd };
}

/** Gradients of sum(dout · rmsnorm(inp)); dbias is all zeros (RMSNorm has none). */
export function rmsnormBackwardRef(
  dout: ArrayLike<number>,
  inp: ArrayLike<number>,
  weight: ArrayLike<number>,
  N: number,
  C: number,
  eps: number,
): NormGrads {
  const { rstd } = rmsnormRef(inp, weight, N, C, eps);
  const dinp = new Float64Array(N * C),
    dweight = new Float64Array(C),
    dbias = new Float64Array(C);
  for (let r = 0; r < N; r++) {
    let s = 0;
    for (let c = 0; c < C; c++) {
      const xh = inp[r * C + c] * rstd[r];
      s += dout[r * C + c] * weight[c] * xh;
      dweight[c] += dout[r * C + c] * xh;
    }
    for (let c = 0; c < C; c++) {
      const xh = inp[r * C + c] * rstd[r];
      dinp[r * C + c] = rstd[r] * (dout[r * C + c] * weight[c] - (xh * s) / C);
    }
  }
  return { dinp, dweight, dbias };
}
