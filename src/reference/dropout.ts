// CPU reference for the counter-based dropout mask and the dropout op (f64 values).
// x is viewed as (samples, groups, groupSize); see shaders/dropout.wgsl.

function mix32(v: number): number {
  let h = v >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Where x's elements sit in the global batch (defaults: one group per sample of `groupSize`). */
export interface DropoutPlace {
  /** global id of x's first sample */
  firstSample: number;
  groupSize: number;
  /** groups per sample in x, and the global index of the first */
  groups: number;
  groupBase: number;
  /** where the held part of each group starts in the whole group (default 0) */
  offset?: number;
}

/** uniform in [0, 1) on a 2^-24 grid for the element at (sample, group, offset) of call site `stream` */
export function dropoutUniform(seed: number, stream: number, sample: number, group: number, offset: number): number {
  const site = mix32((seed ^ mix32(stream)) >>> 0);
  const row = mix32((mix32((site ^ mix32(sample >>> 0)) >>> 0) ^ mix32((group + 0x9e3779b9) >>> 0)) >>> 0);
  const h = mix32((mix32((offset ^ row) >>> 0) + row) >>> 0);
  return (h >>> 8) / 16777216;
}

/** x with dropped elements zeroed and kept ones scaled by 1/(1-p); p compared as f32 like the GPU */
export function dropoutRef(
  x: ArrayLike<number>,
  p: number,
  seed: number,
  stream: number,
  place: DropoutPlace,
): Float64Array {
  const pf = Math.fround(p);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const groupIndex = Math.floor(i / place.groupSize);
    const sample = place.firstSample + Math.floor(groupIndex / place.groups);
    const group = place.groupBase + (groupIndex % place.groups);
    const u = dropoutUniform(seed, stream, sample, group, (i % place.groupSize) + (place.offset ?? 0));
    out[i] = u >= pf ? x[i] / (1 - p) : 0;
  }
  return out;
}
