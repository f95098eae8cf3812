// Run lifecycle: create → assemble tabs → generation 1 (every rank restored and ready) →
// running ⇄ paused → stopped, with membership generations whenever tabs come and go
// (coordinator/generations.ts). Tabs join over HTTP and attach a WebSocket; the planner
// seats them (join order) or keeps them as standbys. A rank holder whose socket closes has
// a short grace to come back (a reload keeps its rank); after that its rank is re-planned.

import type { ControlMessage, ElasticLayout, HaltReport, JoinRequest, JoinResponse } from '../src/protocol';
import { PROTOCOL_VERSION, WS_PATH } from '../src/protocol';
import { HttpError, conflict, notFound } from './errors';
import { type Cause, type GenerationHost, RunGenerations, type Timeouts } from './generations';
import type { RecoveryPlan } from '../src/parallel/recovery-plan';
import { accumulationMultiple } from '../src/parallel/from-config';
import { SILENT_CLOSE } from './ws';
import { hashSecret, newParticipantId, newRunId, newSecret, peerIdFor, sameSecret } from './ids';
import type { MetricsStore } from './metrics-store';
import { assignmentFor, configuredLayout, layoutView, planRun, planView, type PlanView } from './planning';
import { RecoveryRecorder } from './recovery-log';
import { RunData } from './run-data';
import type { ConfigSource, Participant, Run, Store } from './store';
import type { Logger, Telemetry } from './telemetry';

/** The coordinator's end of one tab's WebSocket. */
export interface TabLink {
  send(msg: ControlMessage): void;
  close(code: number, reason: string): void;
}

export interface LifecycleOptions extends Partial<Timeouts> {
  /** How long a participant may stay without a socket (standbys; every tab after a restart). */
  rankGraceMs: number;
  peerServer: { path: string; key: string } | null;
  /** complete checkpoint steps of a run's save and load stores (for the recovery planner) */
  checkpointSteps?: (run: Run) => Promise<{ save: number[]; load: number[] }>;
  telemetry?: Telemetry;
}

export const DEFAULT_TIMEOUTS: Timeouts = { reconnectGraceMs: 5_000, haltTimeoutMs: 30_000, restoreTimeoutMs: 120_000 };

export class RunManager {
  private readonly links = new Map<string, TabLink>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private readonly views = new Map<string, PlanView>();
  private readonly elastic = new Map<string, RunGenerations>();
  readonly timeouts: Timeouts;
  readonly recoveries: RecoveryRecorder;

  constructor(
    readonly store: Store,
    readonly metrics: MetricsStore,
    readonly log: Logger,
    readonly opts: LifecycleOptions,
  ) {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...definedTimeouts(opts) };
    this.recoveries = new RecoveryRecorder(store, log, opts.telemetry);
    // After a restart no socket is open: every tab gets the grace period to come back, and a
    // run that was training goes on once its tabs are back (they kept training meanwhile).
    for (const run of store.listRuns()) {
      if (run.state === 'stopped') continue;
      const gens = this.generations(run.id);
      if (run.generation > 0) gens.resumeAfterRestart(run.state === 'running' ? 'running' : 'other');
      if (run.state === 'running')
        store.setRunState(run.id, 'running', 'coordinator restarted: the tabs are reconnecting');
      for (const p of store.activeParticipants(run.id)) {
        store.setConnected(p.id, false);
        this.startGrace(p, Math.max(this.opts.rankGraceMs, this.timeouts.reconnectGraceMs));
      }
    }
  }

  /** The plan view of the run's configured layout. */
  view(run: Run): PlanView {
    let v = this.views.get(run.id);
    if (!v) this.views.set(run.id, (v = planView(run.plan, run.config)));
    return v;
  }

  /** The plan view of the layout the run trains in now (fewer replicas while some are missing). */
  currentView(run: Run): PlanView {
    return run.layout ? layoutView(run, run.layout, this.views) : this.view(run);
  }

  getRun(id: string): Run {
    const run = this.store.getRun(id);
    if (!run) throw notFound(`run ${JSON.stringify(id)}`);
    return run;
  }

  createRun(input: { name?: string; sources: ConfigSource[]; dp?: number }): { run: Run; warnings: string[] } {
    const planned = planRun(input.sources, input.dp);
    RunData.check(planned.config); // data files missing or broken: refused before the run exists
    const id = newRunId();
    const now = Date.now();
    const run: Run = {
      id,
      name: input.name ?? id,
      state: 'waiting',
      stateReason: 'waiting for tabs',
      paused: false,
      sources: input.sources,
      config: planned.config,
      plan: planned.plan,
      joinToken: newSecret(16),
      step: 0,
      generation: 0,
      layout: null,
      createdAt: now,
      updatedAt: now,
    };
    this.view(run); // a plan the coordinator cannot read is a bug: fail at creation, not at the first join
    this.store.insertRun(run);
    this.store.addEvent(id, 'created', `world ${this.view(run).world}`);
    this.log.info({ run: id, world: this.view(run).world }, 'run created');
    return { run: this.getRun(id), warnings: planned.warnings };
  }

  join(runId: string, req: JoinRequest, ip: string): JoinResponse {
    const run = this.getRun(runId);
    if (!sameSecret(req.joinToken, run.joinToken))
      throw new HttpError(403, 'bad_join_token', `wrong join token for run ${runId}`);
    if (run.state === 'stopped') throw conflict('run_stopped', `run ${runId} is stopped`);
    if (!req.device.webgpu)
      throw new HttpError(422, 'no_webgpu', 'this browser has no WebGPU adapter, so it cannot hold a rank');
    const base = { runId, wsPath: WS_PATH, peerServer: this.opts.peerServer };
    if (req.resume) {
      const p = this.store.getParticipant(req.resume.participantId);
      if (p && p.runId === runId && p.state !== 'left' && hashSecret(req.resume.secret) === p.secretHash) {
        return { ...base, participantId: p.id, secret: req.resume.secret, peerId: p.peerId };
      }
    }
    const id = newParticipantId();
    const secret = newSecret();
    const now = Date.now();
    const p: Participant = {
      id,
      runId,
      secretHash: hashSecret(secret),
      peerId: peerIdFor(runId, id),
      state: 'standby',
      rank: null,
      connected: false,
      device: req.device,
      ip,
      joinedAt: now,
      lastSeenAt: now,
      leftAt: null,
    };
    this.store.insertParticipant(p);
    this.store.addEvent(runId, 'joined', id);
    this.startGrace(p, this.opts.rankGraceMs); // released if its socket never arrives
    return { ...base, participantId: id, secret, peerId: p.peerId };
  }

  /** A socket said hello (`generation`: the one its tab trains, 0 for none): bind it and plan. */
  attach(participantId: string, secret: string, link: TabLink, generation = 0): Participant {
    const p = this.store.getParticipant(participantId);
    if (!p || p.state === 'left' || hashSecret(secret) !== p.secretHash)
      throw new HttpError(403, 'bad_credentials', `unknown participant or wrong secret for ${participantId}`);
    const run = this.getRun(p.runId);
    if (run.state === 'stopped') throw conflict('run_stopped', `run ${run.id} is stopped`);
    this.links.get(p.id)?.close(4000, 'replaced by a newer connection');
    this.links.set(p.id, link);
    this.stopGrace(p.id);
    this.store.setConnected(p.id, true);
    link.send({ type: 'welcome', protocol: PROTOCOL_VERSION, runId: run.id, participantId: p.id, runState: run.state });
    const gens = this.generations(run.id);
    if (p.rank !== null) {
      // the tab learns (again) where it sits; a reloaded one then reports what it can restore
      link.send({ type: 'assign', assignment: this.assignment(run, p, p.rank) });
      if (generation === run.generation && generation > 0) {
        gens.holderReconnected(p);
        gens.restartSettled();
      } else gens.holderReloaded(p);
    } else {
      this.sendStandbyPositions(run.id);
      gens.membersChanged();
    }
    return this.store.getParticipant(p.id)!;
  }

  detach(participantId: string, link: TabLink, code = 1006): void {
    if (this.links.get(participantId) !== link) return; // an older socket of a reconnected tab
    this.links.delete(participantId);
    const p = this.store.getParticipant(participantId);
    if (!p || p.state === 'left') return;
    this.store.setConnected(p.id, false);
    if (p.rank === null) return this.leave(p.id, 'standby disconnected');
    // a clean close (1000/1001) is a tab closed or reloading; our cut for silence, a silent tab;
    // anything else, a crash or a cut connection
    const cause: Cause = code === 1000 || code === 1001 ? 'close' : code === SILENT_CLOSE ? 'silent' : 'crash';
    this.disconnectCause.set(p.id, cause);
    this.startGrace(p, this.timeouts.reconnectGraceMs);
    this.generations(p.runId).holderDisconnected(p, cause);
  }

  private readonly disconnectCause = new Map<string, Cause>();
  /** recent step times (ms) of each run, as its ranks report them */
  private readonly stepTimes = new Map<string, number[]>();

  /** A rank reported how long its step took. */
  noteStepMs(runId: string, ms: number): void {
    const list = this.stepTimes.get(runId) ?? [];
    list.push(ms);
    if (list.length > 64) list.shift();
    this.stepTimes.set(runId, list);
  }

  /** How long a rank's tab may stay silent: ten of the run's median steps (slow is not gone). */
  silenceGraceMs(participantId: string): number {
    const p = this.store.getParticipant(participantId);
    const times = p ? [...(this.stepTimes.get(p.runId) ?? [])].sort((a, b) => a - b) : [];
    return times.length ? 10 * times[Math.floor(times.length / 2)] : 0;
  }

  leave(participantId: string, reason: string, cause: Cause = 'close'): void {
    const p = this.store.getParticipant(participantId);
    if (!p || p.state === 'left') return;
    this.stopGrace(p.id);
    this.store.markLeft(p.id);
    this.store.addEvent(p.runId, 'left', `${p.id}${p.rank === null ? '' : ` (rank ${p.rank})`}: ${reason}`);
    this.log.info({ run: p.runId, participant: p.id, rank: p.rank, reason }, 'participant left');
    const link = this.links.get(p.id);
    this.links.delete(p.id);
    link?.close(1000, reason);
    const why = this.disconnectCause.get(p.id) ?? cause;
    this.disconnectCause.delete(p.id);
    const run = this.getRun(p.runId);
    if (run.state !== 'stopped') this.generations(p.runId).participantLeft(p, why, `rank ${p.rank}: ${reason}`);
  }

  markReady(p: Participant, rank: number, generation: number | undefined): void {
    if (p.rank !== rank) {
      this.send(p.id, {
        type: 'error',
        code: 'wrong_rank',
        message: `ready for rank ${rank}, but this tab holds ${p.rank === null ? 'no rank' : `rank ${p.rank}`}`,
        fatal: false,
      });
      return;
    }
    if (p.state === 'assigned') this.store.setParticipantState(p.id, 'ready');
    this.generations(p.runId).markReady(p, generation ?? this.getRun(p.runId).generation);
  }

  halted(p: Participant, generation: number, report: HaltReport, reason: string): void {
    this.generations(p.runId).halted(p, generation, report, reason);
  }

  /** Progress of a rank; once every rank of the layout reported step >= train_iters the run is finished. */
  reportStep(p: Participant, step: number): void {
    this.store.advanceRunStep(p.runId, step);
    const gens = this.generations(p.runId);
    gens.reportStep(p, step);
    const run = this.getRun(p.runId);
    const iters = run.config.train_iters;
    if (p.rank === null || typeof iters !== 'number' || step < iters || run.state === 'stopped') return;
    gens.done.add(p.rank);
    if (gens.done.size < this.currentView(run).world) return;
    this.store.addEvent(run.id, 'finished', `step ${step}`);
    this.stop(run.id, `finished: every rank reached train_iters ${iters}`);
  }

  // ---- admin control
  pause(runId: string): Run {
    const run = this.live(runId);
    this.store.setRunState(run.id, 'paused', 'paused by admin', true);
    this.store.addEvent(run.id, 'paused');
    this.broadcast(run.id, { type: 'pause', reason: 'paused by admin' }, true);
    return this.getRun(runId);
  }

  resume(runId: string): Run {
    const run = this.live(runId);
    const training = this.generations(run.id).phase === 'running';
    this.store.setRunState(run.id, training ? 'running' : 'waiting', training ? '' : 'resumed by admin', false);
    this.store.addEvent(run.id, 'resumed');
    this.broadcast(run.id, { type: 'resume' }, true);
    return this.getRun(runId);
  }

  stop(runId: string, reason = 'stopped by admin'): Run {
    const run = this.getRun(runId);
    if (run.state === 'stopped') return run;
    this.store.setRunState(run.id, 'stopped', reason);
    this.store.addEvent(run.id, 'stopped', reason);
    this.broadcast(run.id, { type: 'stop', reason }, false);
    this.elastic.get(run.id)?.close();
    for (const p of this.store.activeParticipants(run.id)) {
      this.stopGrace(p.id);
      this.store.markLeft(p.id);
      const link = this.links.get(p.id);
      this.links.delete(p.id);
      link?.close(1000, reason);
    }
    return this.getRun(runId);
  }

  send(participantId: string, msg: ControlMessage): void {
    this.links.get(participantId)?.send(msg);
  }

  /** The generations state machine of a run (phase, for views and tests). */
  generations(runId: string): RunGenerations {
    let g = this.elastic.get(runId);
    if (!g) this.elastic.set(runId, (g = this.makeGenerations(runId)));
    return g;
  }

  close(): void {
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
    for (const g of this.elastic.values()) g.close();
  }

  // ---- internals
  private assignment(run: Run, p: Participant, rank: number) {
    return assignmentFor(this.currentView(run), run, { participantId: p.id, peerId: p.peerId }, rank);
  }

  private makeGenerations(runId: string): RunGenerations {
    const host: GenerationHost = {
      run: () => this.getRun(runId),
      members: () => this.store.activeParticipants(runId),
      connected: (id: string) => this.links.has(id),
      disconnectCause: (id: string) => (this.links.has(id) ? null : (this.disconnectCause.get(id) ?? null)),
      configured: (): ElasticLayout => configuredLayout(this.view(this.getRun(runId))),
      zero: () => ((this.getRun(runId).config.zero_optimization as { stage?: number } | undefined)?.stage ?? 0) >= 1,
      accumMultiple: () => accumulationMultiple(this.getRun(runId).config),
      checkpointSteps: () =>
        this.opts.checkpointSteps?.(this.getRun(runId)) ??
        Promise.resolve({ save: [] as number[], load: [] as number[] }),
      halt: (p: Participant, generation: number, reason: string) =>
        this.send(p.id, { type: 'halt', generation, reason }),
      begin: (generation, plan) => this.beginGeneration(runId, generation, plan),
      start: (generation: number, step: number) => {
        for (const p of this.store.activeParticipants(runId).filter((m) => m.rank !== null)) {
          this.store.setParticipantState(p.id, 'training');
          this.send(p.id, { type: 'start', step, generation });
          if (this.getRun(runId).paused) this.send(p.id, { type: 'pause', reason: 'paused by admin' });
        }
        this.store.addEvent(runId, 'running', `generation ${generation} from step ${step}`);
        this.log.info({ run: runId, generation, step }, 'run running');
      },
      setState: (state: 'waiting' | 'running', reason: string) => {
        const run = this.getRun(runId);
        if (run.state === 'stopped') return;
        const next = state === 'running' && run.paused ? 'paused' : state;
        this.store.setRunState(runId, next, reason);
      },
      drop: (id: string, reason: string) => this.leave(id, reason, 'silent'),
      recorded: this.recoveries.forRun(runId),
      log: (e) => this.log.error({ run: runId, err: e }, 'planning failed'),
    };
    return new RunGenerations(host, this.timeouts);
  }

  private beginGeneration(runId: string, generation: number, plan: Extract<RecoveryPlan, { kind: 'go' }>): void {
    this.store.beginGeneration(
      runId,
      generation,
      plan.layout,
      plan.assignments.map((a) => ({ participantId: a.member, rank: a.rank })),
    );
    const run = this.getRun(runId);
    for (const a of plan.assignments) {
      const p = this.store.getParticipant(a.member)!;
      this.send(p.id, {
        type: 'generation',
        plan: { generation, step: plan.step, layout: plan.layout, restore: a.restore, donate: a.donate },
        assignment: this.assignment(run, p, a.rank),
      });
    }
    this.sendStandbyPositions(runId);
    this.store.addEvent(
      runId,
      'generation',
      `${generation}: ${plan.layout.tp}×${plan.layout.pp}×${plan.layout.dp} from step ${plan.step} (${plan.restoredFrom})`,
    );
  }

  private sendStandbyPositions(runId: string): void {
    const waiting = this.store.activeParticipants(runId).filter((p) => p.rank === null && this.links.has(p.id));
    waiting.forEach((p, i) => this.send(p.id, { type: 'standby', position: i + 1 }));
  }

  private live(runId: string): Run {
    const run = this.getRun(runId);
    if (run.state === 'stopped') throw conflict('run_stopped', `run ${runId} is stopped`);
    return run;
  }

  private broadcast(runId: string, msg: ControlMessage, ranksOnly: boolean): void {
    for (const p of this.store.activeParticipants(runId)) if (!ranksOnly || p.rank !== null) this.send(p.id, msg);
  }

  /** A participant without a socket leaves after `ms`, unless it holds a rank of a run that
   *  kept finishing steps meanwhile: every rank takes part in every step, so it is alive and
   *  only its control socket is down (a busy tab); then it gets another grace. */
  private startGrace(p: Participant, ms: number, stepThen = this.store.getRun(p.runId)?.step ?? 0): void {
    this.stopGrace(p.id);
    this.graceTimers.set(
      p.id,
      setTimeout(() => {
        this.graceTimers.delete(p.id);
        const now = this.store.getParticipant(p.id);
        if (!now || this.links.has(p.id) || now.state === 'left') return;
        const run = this.store.getRun(p.runId);
        const step = run?.step ?? 0;
        const training = run?.state === 'running' && this.generations(p.runId).phase === 'running';
        if (now.rank !== null && training && step > stepThen) return this.startGrace(now, ms, step);
        this.leave(p.id, `no connection for ${ms} ms`);
      }, ms).unref(),
    );
  }

  private stopGrace(id: string): void {
    const t = this.graceTimers.get(id);
    if (t) clearTimeout(t);
    this.graceTimers.delete(id);
  }
}

function definedTimeouts(o: Partial<Timeouts>): Partial<Timeouts> {
  const out: Partial<Timeouts> = {};
  if (o.reconnectGraceMs !== undefined) out.reconnectGraceMs = o.reconnectGraceMs;
  if (o.haltTimeoutMs !== undefined) out.haltTimeoutMs = o.haltTimeoutMs;
  if (o.restoreTimeoutMs !== undefined) out.restoreTimeoutMs = o.restoreTimeoutMs;
  return out;
}
