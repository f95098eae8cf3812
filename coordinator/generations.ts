// Membership generations of one run: the recovery protocol on the coordinator's side.
//
//   assembling ─(enough tabs)─▶ restoring ─(every rank ready)─▶ running
//        ▲                          │                              │ a rank's tab goes, a rank
//        │                          ▼                              ▼ halts on a failed peer, or
//        └───(no plan: wait)── halting ◀────────────────────────────  a whole replica can join
//
// Halting: every connected rank holder is told `halt` with the next generation number and
// reports what it can restore (HaltReport); holders whose socket closed get a short grace to
// come back (a reload keeps its rank). Then src/parallel/recovery-plan.ts picks the layout,
// the resume step and each rank's source, and every rank gets its `generation`; once all are
// `ready`, `start`. Each change is a row in `recoveries` (cause, who left and who took over,
// where the state came from, steps rolled back, seconds).
import { planRecovery, type Member, type RecoveryPlan } from '../src/parallel/recovery-plan';
import type { ElasticLayout, HaltReport, RestoreKind } from '../src/protocol';
import type { Participant, Run } from './store';

export type Phase = 'assembling' | 'halting' | 'restoring' | 'running';

export type Cause = 'start' | 'close' | 'crash' | 'reload' | 'silent' | 'peer' | 'grow' | 'coordinator-restart';

/** What the state machine needs from the coordinator around it. */
export interface GenerationHost {
  run(): Run;
  /** participants of the run that have not left, in join order */
  members(): Participant[];
  connected(participantId: string): boolean;
  /** why a holder without a socket lost it (close, crash, silent), if it did */
  disconnectCause(participantId: string): Cause | null;
  configured(): ElasticLayout;
  zero(): boolean;
  /** what every layout's accumulation must be a multiple of (interleaved 1F1B); default 1 */
  accumMultiple?(): number;
  checkpointSteps(): Promise<{ save: number[]; load: number[] }>;
  /** sends `halt` for `generation` to a rank holder */
  halt(p: Participant, generation: number, reason: string): void;
  /** seats the plan's members, sends each its generation (and idle ones `standby`) */
  begin(generation: number, plan: Extract<RecoveryPlan, { kind: 'go' }>): void;
  start(generation: number, step: number): void;
  setState(state: 'waiting' | 'running', reason: string): void;
  /** a participant that never reported or came back in time: it leaves the run */
  drop(participantId: string, reason: string): void;
  recorded: RecoveryLog;
  log?: (e: Error) => void;
}

export interface RecoveryLog {
  open(cause: Cause, detail: string, lost: { rank: number; participant: string }[], committed: number): number;
  lost(id: number, lost: { rank: number; participant: string }[]): void;
  /** the cause turned out to be another (e.g. a tab that disconnected came back: a reload) */
  recause(id: number, cause: Cause): void;
  planned(id: number, generation: number, plan: Extract<RecoveryPlan, { kind: 'go' }>, tookOver: TookOver[]): void;
  finished(id: number, seconds: number, rollback: number, restoredFrom: RestoreKind | 'none', cause: Cause): void;
}

export interface TookOver {
  rank: number;
  participant: string;
  from: string;
}

export interface Timeouts {
  /** a holder whose socket closed has this long to come back before its rank is given away */
  reconnectGraceMs: number;
  /** a connected holder that does not answer `halt` within this long is dropped */
  haltTimeoutMs: number;
  /** a generation whose ranks are not all ready within this long is halted again */
  restoreTimeoutMs: number;
}

export class RunGenerations {
  phase: Phase = 'assembling';
  /** the generation being halted towards (while halting) */
  private target = 0;
  private readonly reports = new Map<string, HaltReport>();
  private readonly ready = new Set<string>();
  private readonly lastStep = new Map<string, number>();
  /** ranks that reported the last step in the current generation */
  readonly done = new Set<number>();
  private recovery: { id: number; startedAt: number; cause: Cause; committed: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private planning = false;
  private planAgain = false;
  private resumeStep = 0;

  constructor(
    private readonly host: GenerationHost,
    private readonly t: Timeouts,
  ) {}

  /** the last step every holder of the current generation reported */
  committed(): number {
    const holders = this.host.members().filter((p) => p.rank !== null);
    if (holders.length === 0) return this.resumeStep;
    return Math.min(...holders.map((p) => this.lastStep.get(p.id) ?? this.resumeStep));
  }

  /** Tabs joined, left or came back: a run waiting for tabs may be able to go on. */
  membersChanged(): void {
    if (this.phase === 'assembling') this.replan();
    else if (this.phase === 'running') this.maybeGrow();
  }

  /** A rank holder's socket closed. Nothing happens yet: if its tab is really gone its peers
   *  fail and halt (a `halted` report starts the change), and its rank goes when the reconnect
   *  grace ends; a tab that reconnects in time and still trains its generation just goes on. */
  holderDisconnected(_p: Participant, _cause: Cause): void {
    if (this.phase === 'halting') this.check();
  }

  /** A holder's tab reloaded (it says it trains no generation): its memory is gone. */
  holderReloaded(p: Participant): void {
    if (this.phase === 'halting') {
      if (this.recovery && this.recovery.cause !== 'coordinator-restart') {
        this.recovery.cause = 'reload';
        this.host.recorded.recause(this.recovery.id, 'reload');
      }
      this.host.halt(p, this.target, 'reloaded during a change of membership');
      return;
    }
    if (this.phase !== 'assembling') this.beginHalting('reload', `rank ${p.rank} (${p.id}) reloaded`, []);
  }

  /** A holder reconnected and still trains the current generation: nothing changed. */
  holderReconnected(p: Participant): void {
    if (this.phase === 'halting' && !this.reports.has(p.id)) this.host.halt(p, this.target, 'membership is changing');
  }

  /** A participant left for good (grace over, or it said so). */
  participantLeft(p: Participant, why: Cause, detail: string): void {
    this.reports.delete(p.id);
    this.ready.delete(p.id);
    if (p.rank === null) return this.membersChanged();
    const lost = [{ rank: p.rank, participant: p.id }];
    if (this.phase === 'halting') {
      if (this.recovery) {
        this.host.recorded.lost(this.recovery.id, lost);
        // peers usually notice first (their links drop before the socket closes): the loss is the cause
        if (this.recovery.cause === 'peer' && why !== 'peer') {
          this.recovery.cause = why;
          this.host.recorded.recause(this.recovery.id, why);
        }
      }
      return this.check();
    }
    if (this.phase === 'running' || this.phase === 'restoring') return this.beginHalting(why, detail, lost);
    this.replan();
  }

  /** A rank stopped: asked to (for `target`), or on its own because a peer failed. */
  halted(p: Participant, generation: number, report: HaltReport, reason: string): void {
    if (this.phase === 'halting' && generation === this.target) {
      this.reports.set(p.id, report);
      return this.check();
    }
    if (this.phase === 'halting') {
      this.reports.set(p.id, report); // a rank that halted on its own while we were asking
      return this.check();
    }
    if (this.phase === 'running' || this.phase === 'restoring') {
      // a peer failed: most likely the tab whose socket is gone (its close tells how it went)
      const gone = this.host.members().find((m) => m.rank !== null && !this.host.connected(m.id));
      const cause = (gone && this.host.disconnectCause(gone.id)) ?? 'peer';
      this.beginHalting(cause, `rank ${p.rank} stopped: ${reason}`, []);
      this.reports.set(p.id, report);
      this.check();
    }
  }

  markReady(p: Participant, generation: number): void {
    if (this.phase !== 'restoring' || generation !== this.host.run().generation) return;
    this.ready.add(p.id);
    const holders = this.host.members().filter((m) => m.rank !== null);
    if (holders.every((h) => this.ready.has(h.id))) this.startGeneration();
  }

  reportStep(p: Participant, step: number): void {
    this.lastStep.set(p.id, Math.max(step, this.lastStep.get(p.id) ?? 0));
  }

  /** The coordinator restarted with this run mid-flight: the tabs get time to come back. */
  resumeAfterRestart(phaseWas: 'running' | 'other'): void {
    this.resumeStep = this.host.run().step;
    if (phaseWas === 'running') {
      this.phase = 'running';
      this.recovery = {
        id: this.host.recorded.open('coordinator-restart', 'the coordinator restarted', [], this.resumeStep),
        startedAt: Date.now(),
        cause: 'coordinator-restart',
        committed: this.resumeStep,
      };
      this.armTimer(this.t.reconnectGraceMs + this.t.haltTimeoutMs, () => {
        // whoever is not back by now is gone: recover without them
        const missing = this.host.members().filter((m) => m.rank !== null && !this.host.connected(m.id));
        for (const m of missing) this.host.drop(m.id, 'did not come back after the coordinator restarted');
      });
    } else {
      this.phase = 'halting';
      this.target = this.host.run().generation + 1;
      this.recovery = {
        id: this.host.recorded.open(
          'coordinator-restart',
          'restarted while membership was changing',
          [],
          this.resumeStep,
        ),
        startedAt: Date.now(),
        cause: 'coordinator-restart',
        committed: this.resumeStep,
      };
      this.armTimer(this.t.reconnectGraceMs + this.t.haltTimeoutMs, () => this.check(true));
    }
  }

  /** Every holder is back on the current generation after a restart: the run just goes on. */
  restartSettled(): void {
    if (this.recovery?.cause !== 'coordinator-restart' || this.phase !== 'running') return;
    const holders = this.host.members().filter((m) => m.rank !== null);
    if (!holders.every((h) => this.host.connected(h.id))) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.host.setState('running', '');
    this.finishRecovery('none');
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  // ---- internals

  private armTimer(ms: number, f: () => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      f();
    }, ms);
    this.timer.unref?.();
  }

  private beginHalting(cause: Cause, detail: string, lost: { rank: number; participant: string }[]): void {
    const committed = this.committed();
    if (!this.recovery || this.recovery.cause === 'coordinator-restart') {
      if (this.recovery) this.host.recorded.finished(this.recovery.id, 0, 0, 'none', this.recovery.cause);
      this.recovery = {
        id: this.host.recorded.open(cause, detail, lost, committed),
        startedAt: Date.now(),
        cause,
        committed,
      };
    } else if (lost.length) this.host.recorded.lost(this.recovery.id, lost);
    this.phase = 'halting';
    this.target = this.host.run().generation + 1;
    this.reports.clear();
    this.ready.clear();
    this.host.setState('waiting', `changing membership (${detail})`);
    for (const m of this.host.members())
      if (m.rank !== null && this.host.connected(m.id)) this.host.halt(m, this.target, detail);
    this.armTimer(this.t.haltTimeoutMs, () => this.check(true));
    this.check();
  }

  /** Halting is over when every holder reported, or left. `force`: holders still silent are dropped. */
  private check(force = false): void {
    if (this.phase !== 'halting') return;
    const holders = this.host.members().filter((m) => m.rank !== null);
    const silent = holders.filter((h) => !this.reports.has(h.id));
    if (silent.length > 0 && !force) {
      // disconnected holders are waited for by their grace timers (RunManager); connected ones answer
      return;
    }
    for (const h of silent) this.host.drop(h.id, `did not report within ${this.t.haltTimeoutMs} ms of halt`);
    this.replan();
  }

  private maybeGrow(): void {
    const run = this.host.run();
    const configured = this.host.configured();
    if (!run.layout || run.layout.dp >= configured.dp) return;
    const idle = this.host.members().filter((m) => m.rank === null && this.host.connected(m.id));
    if (idle.length < configured.tp * configured.pp) return;
    this.beginHalting('grow', `${idle.length} standby tab(s) can form another replica`, []);
  }

  /** plan(), with a failure reported where the admin sees it instead of lost */
  private replan(): void {
    this.plan().catch((e: Error) => {
      this.planning = false;
      this.phase = 'assembling';
      this.host.setState('waiting', `cannot plan the next generation: ${e.message}`);
      this.host.log?.(e);
    });
  }

  private async plan(): Promise<void> {
    // one plan at a time; news that arrives meanwhile (a tab joined) is planned again after it
    if (this.planning) {
      this.planAgain = true;
      return;
    }
    this.planning = true;
    try {
      const checkpoints = await this.host.checkpointSteps();
      const run = this.host.run();
      const members: Member[] = this.host
        .members()
        .filter((m) => this.host.connected(m.id))
        .map((m) => ({ id: m.id, rank: m.rank, report: this.reports.get(m.id) ?? null }));
      const first = run.generation === 0;
      const plan = planRecovery({
        configured: this.host.configured(),
        current: run.layout,
        zero: this.host.zero(),
        accumMultiple: this.host.accumMultiple?.(),
        members,
        checkpoints,
        allowShrink: !first,
      });
      if (plan.kind === 'wait') {
        this.phase = 'assembling';
        this.host.setState('waiting', plan.reason);
        return;
      }
      const generation = Math.max(this.target, run.generation + 1);
      const before = new Map(this.host.members().map((m) => [m.id, m.rank]));
      const tookOver: TookOver[] = plan.assignments
        .filter((a) => a.restore.kind !== 'keep' && before.get(a.member) !== a.rank)
        .map((a) => ({ rank: a.rank, participant: a.member, from: a.restore.kind }));
      if (!this.recovery)
        this.recovery = {
          id: this.host.recorded.open(first ? 'start' : 'peer', '', [], this.committed()),
          startedAt: Date.now(),
          cause: first ? 'start' : 'peer',
          committed: this.committed(),
        };
      this.host.recorded.planned(this.recovery.id, generation, plan, tookOver);
      this.phase = 'restoring';
      this.ready.clear();
      this.done.clear();
      this.lastStep.clear();
      this.resumeStep = plan.step;
      this.host.begin(generation, plan);
      this.host.setState('waiting', `generation ${generation}: restoring step ${plan.step} (${plan.restoredFrom})`);
      this.pendingRestoredFrom = plan.restoredFrom;
      this.armTimer(this.t.restoreTimeoutMs, () => {
        if (this.phase === 'restoring') this.beginHalting('peer', `generation ${generation} was not ready in time`, []);
      });
    } finally {
      this.planning = false;
      if (this.planAgain) {
        this.planAgain = false;
        if (this.phase === 'assembling' || this.phase === 'halting') this.replan();
      }
    }
  }

  private pendingRestoredFrom: RestoreKind | 'none' = 'none';

  private startGeneration(): void {
    const run = this.host.run();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.phase = 'running';
    this.host.start(run.generation, this.resumeStep);
    this.host.setState('running', '');
    this.finishRecovery(this.pendingRestoredFrom);
  }

  private finishRecovery(restoredFrom: RestoreKind | 'none'): void {
    if (!this.recovery) return;
    const r = this.recovery;
    this.recovery = null;
    const seconds = (Date.now() - r.startedAt) / 1000;
    this.host.recorded.finished(r.id, seconds, Math.max(0, r.committed - this.resumeStep), restoredFrom, r.cause);
  }
}
