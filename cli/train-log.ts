// NeoX's training log (megatron/logging.py training_log): a line every log_interval iterations
// with the train loss averaged over the iterations since the previous line, plus, here, one
// after the last step when the run does not end on a multiple of log_interval. Pure.

export interface StepRecord {
  /** the iteration just completed, counted from 1 */
  step: number;
  loss: number;
  lr: number | null;
  tokensPerSec: number | null;
}

export interface IntervalEntry {
  /** the last iteration of the interval */
  iteration: number;
  /** iterations averaged: log_interval, fewer for the last or after a resume */
  iterations: number;
  /** mean train loss over those iterations */
  train_loss: number;
  /** the learning rate of the last iteration */
  lr: number | null;
  /** tokens per second over the interval (its tokens over its time; null when a step lacks it) */
  tokens_per_sec: number | null;
}

export class IntervalLog {
  readonly entries: IntervalEntry[] = [];
  private pending: StepRecord[] = [];

  /** @param lastStep the run's final iteration, which is always logged */
  constructor(
    readonly interval: number,
    readonly lastStep: number,
  ) {
    if (!Number.isInteger(interval) || interval < 1)
      throw new Error(`log_interval must be a positive integer, got ${interval}`);
  }

  /** Adds one iteration's numbers; returns the interval's entry when this iteration ends one. */
  add(r: StepRecord): IntervalEntry | null {
    this.pending.push(r);
    return r.step % this.interval === 0 || r.step >= this.lastStep ? this.flush() : null;
  }

  /** The iterations since the last entry as one entry (none when there are none). */
  flush(): IntervalEntry | null {
    const steps = this.pending;
    if (!steps.length) return null;
    this.pending = [];
    const last = steps[steps.length - 1];
    const tps = steps.map((s) => s.tokensPerSec);
    const entry: IntervalEntry = {
      iteration: last.step,
      iterations: steps.length,
      train_loss: steps.reduce((a, s) => a + s.loss, 0) / steps.length,
      lr: last.lr,
      // equal tokens per step: the interval's rate is the harmonic mean of the steps' rates
      tokens_per_sec: tps.every((t) => t !== null && t > 0)
        ? steps.length / tps.reduce((a: number, t) => a + 1 / t!, 0)
        : null,
    };
    this.entries.push(entry);
    return entry;
  }
}

/** `iteration 10/60 | train loss 4.1234 (mean of 10) | lr 9.500e-4 | 1234 tok/s` */
export function formatEntry(e: IntervalEntry, trainIters: number): string {
  const parts = [
    `iteration ${e.iteration}/${trainIters}`,
    `train loss ${e.train_loss.toFixed(4)} (mean of ${e.iterations})`,
  ];
  if (e.lr !== null) parts.push(`lr ${e.lr.toExponential(3)}`);
  if (e.tokens_per_sec !== null) parts.push(`${e.tokens_per_sec.toFixed(0)} tok/s`);
  return parts.join(' | ');
}
