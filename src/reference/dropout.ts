// CPU reference for the counter-based dropout mask and the dropout op (f64 values).

function mix32(v: number): number {
  let h = v >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** uniform in [0, 1) on a 2^-24 grid for element i of (seed, stream) */
export function dropoutUniform(seed: number, stream: number, i: number): number {
  const key = mix32((seed ^ mix32(stream)) >>> 0);
  const h = mix32((mix32((i ^ key) >>> 0) + key) >>> 0);
  return (h >>> 8) / 16777216;
}

/** x with dropped elements zeroed and kept ones scaled by 1/(1-p); p compared as f32 like the GPU */
export function dropoutRef(x: ArrayLike<number>, p: number, seed: number, stream: number): Float64Array {
  const pf = Math.fround(p);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = dropoutUniform(seed, stream, i) >= pf ? x[i] / (1 - p) : 0;
  return out;
}
