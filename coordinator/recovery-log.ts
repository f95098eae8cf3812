// Writes each membership change of a run: a `recoveries` row (what /metrics counts and the
// admin page lists) and a line in the run's event log in words.
import type { RecoveryPlan } from '../src/parallel/recovery-plan';
import type { RestoreKind } from '../src/protocol';
import type { Cause, RecoveryLog, TookOver } from './generations';
import type { Store } from './store';
import type { Logger, Telemetry } from './telemetry';

export class RecoveryRecorder {
  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    readonly telemetry?: Telemetry,
  ) {}

  forRun(runId: string): RecoveryLog {
    const store = this.store;
    const log = this.log;
    return {
      open(cause: Cause, detail: string, lost: { rank: number; participant: string }[], committed: number): number {
        const generation = store.getRun(runId)?.generation ?? 0;
        if (cause !== 'start')
          store.addEvent(runId, 'recovery', `${cause}: ${detail} (last finished step ${committed})`);
        return store.addRecovery({
          runId,
          generation,
          cause,
          detail,
          lost,
          committedStep: committed,
          startedAt: Date.now(),
        });
      },
      lost(id: number, lost: { rank: number; participant: string }[]): void {
        const row = store.recoveries(runId).find((r) => r.id === id);
        const seen = new Set((row?.lost ?? []).map((l) => l.participant));
        store.updateRecovery(id, { lost: [...(row?.lost ?? []), ...lost.filter((l) => !seen.has(l.participant))] });
      },
      recause(id: number, cause: Cause): void {
        store.updateRecovery(id, { cause });
      },
      planned(id: number, generation: number, plan: Extract<RecoveryPlan, { kind: 'go' }>, tookOver: TookOver[]): void {
        store.planRecovery(id, {
          generation,
          tookOver,
          restoredFrom: plan.restoredFrom,
          resumeStep: plan.step,
          layout: plan.layout,
        });
        const who = tookOver.map((t) => `rank ${t.rank} → ${t.participant} (${t.from})`).join(', ');
        if (who) store.addEvent(runId, 'took-over', `generation ${generation}: ${who}`);
      },
      finished(id: number, seconds: number, rollback: number, restoredFrom: RestoreKind | 'none', cause: Cause): void {
        store.finishRecovery(id, restoredFrom);
        if (cause === 'start') return;
        const row = store.recoveries(runId).find((r) => r.id === id);
        const text = `${cause}: training again from step ${row?.resumeStep ?? '?'} after ${seconds.toFixed(1)} s, state from ${restoredFrom}, ${rollback} step(s) rolled back`;
        store.addEvent(runId, 'recovered', text);
        log.info({ run: runId, cause, seconds, rollback, restoredFrom }, 'recovered');
      },
    };
  }
}
