// CPU reference for GELU (exact erf form), in f64.

/** erf via Abramowitz & Stegun 7.1.26 refined with a series/continued-fraction switch */
export function erf(x: number): number {
  // series for small |x|, complementary continued fraction for large |x|; accurate to ~1e-15
  const z = Math.abs(x);
  let r: number;
  if (z < 2.5) {
    let sum = z,
      term = z;
    for (let n = 1; n < 60; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // Lentz continued fraction for erfc
    let f = z,
      c = z,
      d = 0;
    for (let n = 1; n < 200; n++) {
      const an = n / 2;
      d = z + an * d;
      d = 1 / d;
      c = z + an / c;
      const delta = c * d;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    r = 1 - Math.exp(-z * z) / (f * Math.sqrt(Math.PI));
  }
  return x < 0 ? -r : r;
}

export function geluRef(x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 0.5 * x[i] * (1 + erf(x[i] / Math.SQRT2));
  return out;
}

export function geluBackwardRef(x: ArrayLike<number>, dout: ArrayLike<number>): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const cdf = 0.5 * (1 + erf(x[i] / Math.SQRT2));
    const pdf = Math.exp(-0.5 * x[i] * x[i]) / Math.sqrt(2 * Math.PI);
    out[i] = dout[i] * (cdf + x[i] * pdf);
  }
  return out;
}
