// Learning-rate schedule with NeoX's AnnealingLR semantics (pure).
// warmupIters = warmup × decayIters; during warmup lr rises linearly from 0; afterwards it
// decays over (decayIters − warmupIters) steps and never falls below minLr.

export type DecayStyle = 'constant' | 'linear' | 'cosine' | 'exponential';

export interface LrSchedule {
  lr: number;
  minLr: number;
  warmup: number; // fraction of decayIters
  decayIters: number; // lr_decay_iters, default train_iters
  style: DecayStyle;
}

/** Learning rate used by optimizer step `iter` (0-based). */
export function learningRate(s: LrSchedule, iter: number): number {
  const warmupIters = s.warmup * s.decayIters;
  if (warmupIters > 0 && iter <= warmupIters) return (s.lr * iter) / warmupIters;
  if (s.style === 'constant') return s.lr;
  if (iter > s.decayIters) return s.minLr;
  const done = iter - warmupIters;
  const span = s.decayIters - warmupIters;
  let lr: number;
  switch (s.style) {
    case 'linear':
      lr = (s.lr * (span - done)) / span;
      break;
    case 'cosine':
      lr = (s.lr / 2) * (Math.cos((Math.PI * done) / span) + 1);
      break;
    case 'exponential':
      lr = s.lr * Math.exp((-Math.LN2 * done) / s.decayIters);
      break;
  }
  return Math.max(lr, s.minLr);
}
