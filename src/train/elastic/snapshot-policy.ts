// When a rank writes its local snapshot, and writing it without holding training up: the GPU
// copies are queued at the step boundary (so later steps cannot change what is saved) and the
// readback and the store's write finish in the background while training goes on.
// With no interval configured, the first snapshot after each (re)start measures the cost and
// the interval is chosen so snapshots take about 5% of the training time.
import type { RankModel } from './rank-model';
import { readRankState } from './rank-state';
import type { SnapshotStore } from './snapshots';

/** snapshots kept per rank place (a rollback may need an older one than the newest) */
export const SNAPSHOTS_KEPT = 3;
const TARGET_SHARE = 0.05;
const MAX_AUTO_INTERVAL = 100;

export function autoInterval(snapshotMs: number, stepMs: number): number {
  if (!(stepMs > 0)) return 1;
  return Math.min(MAX_AUTO_INTERVAL, Math.max(1, Math.ceil(snapshotMs / (TARGET_SHARE * stepMs))));
}

export class SnapshotPolicy {
  private interval: number | null;
  private pending: Promise<void> | null = null;
  /** the interval in force (null until measured) */
  get every(): number | null {
    return this.interval;
  }

  constructor(
    private readonly store: SnapshotStore,
    private readonly configured: number | null,
  ) {
    this.interval = configured;
  }

  /** A new generation started at `step`: an automatic interval is measured again. */
  restarted(_step: number): void {
    if (this.configured === null) this.interval = null;
  }

  afterStep(m: RankModel, runId: string, stepMs: number): void {
    if (this.configured === 0 || this.pending) return;
    const step = m.trainer.step;
    const measuring = this.interval === null;
    if (!measuring && step % this.interval! !== 0) return;
    const t0 = performance.now();
    const key = m.snapshotKey(runId);
    this.pending = readRankState(m.trainer)
      .then((state) => this.store.put(key, state, SNAPSHOTS_KEPT))
      .then(() => {
        if (measuring) this.interval = autoInterval(performance.now() - t0, stepMs);
      })
      .catch((e: Error) => console.warn(`snapshot of step ${step} failed: ${e.message}`))
      .finally(() => {
        this.pending = null;
      });
  }

  /** Resolves once no snapshot is being written. */
  async settled(): Promise<void> {
    await this.pending;
  }

  steps(key: string): Promise<number[]> {
    return this.store.steps(key);
  }
}
