// A toy model for testing rounds on plain arrays: least squares, loss = ‖A·w − b‖² / (2m), with
// each data-parallel replica (and each step) drawing its own rows. Test support, not training code.
import { Rng } from '../../util/rng';

export interface ToyBatch {
  a: Float64Array; // (m, P)
  b: Float64Array; // (m)
}

export function toyBatch(P: number, m: number, replica: number, step: number): ToyBatch {
  const rng = new Rng(7919 * (replica + 1) + 104729 * step);
  const a = new Float64Array(m * P).map(() => rng.normal());
  // targets from one shared w*(j) = sin(j), plus noise: every replica learns the same model
  const b = new Float64Array(m).map((_, i) => {
    let y = 0.1 * rng.normal();
    for (let j = 0; j < P; j++) y += a[i * P + j] * Math.sin(j);
    return y;
  });
  return { a, b };
}

/** ∇ of the batch loss at w. */
export function toyGrad(w: ArrayLike<number>, { a, b }: ToyBatch): Float64Array {
  const P = w.length,
    m = b.length;
  const g = new Float64Array(P);
  for (let i = 0; i < m; i++) {
    let r = -b[i];
    for (let j = 0; j < P; j++) r += a[i * P + j] * w[j];
    for (let j = 0; j < P; j++) g[j] += (a[i * P + j] * r) / m;
  }
  return g;
}

export function toyLoss(w: ArrayLike<number>, { a, b }: ToyBatch): number {
  const P = w.length,
    m = b.length;
  let s = 0;
  for (let i = 0; i < m; i++) {
    let r = -b[i];
    for (let j = 0; j < P; j++) r += a[i * P + j] * w[j];
    s += r * r;
  }
  return s / (2 * m);
}
