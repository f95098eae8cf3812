// Run lifecycle: create → waiting for PP·TP·DP ranks → (every rank ready) running ⇄ paused → stopped.
// Tabs join over HTTP, attach a WebSocket, get the lowest vacant rank in join order or wait
// as standbys; a rank whose tab is gone longer than the grace period goes to the next standby.

import type { ControlMessage, JoinRequest, JoinResponse } from '../src/protocol';
import { PROTOCOL_VERSION, WS_PATH } from '../src/protocol';
import { HttpError, conflict, notFound } from './errors';
import { hashSecret, newParticipantId, newRunId, newSecret, peerIdFor, sameSecret } from './ids';
import type { MetricsStore } from './metrics-store';
import { assignmentFor, peersOf, planRun, planView, type PlanView } from './planning';
import type { ConfigSource, Participant, Run, Store } from './store';
import type { Logger } from './telemetry';

/** The coordinator's end of one tab's WebSocket. */
export interface TabLink {
  send(msg: ControlMessage): void;
  close(code: number, reason: string): void;
}

export interface LifecycleOptions {
  /** How long a rank waits for its disconnected tab before going to a standby. */
  rankGraceMs: number;
  peerServer: { path: string; key: string } | null;
}

export class RunManager {
  private readonly links = new Map<string, TabLink>();
  private readonly graceTimers = new Map<string, NodeJS.Timeout>();
  private readonly views = new Map<string, PlanView>();
  private readonly doneRanks = new Map<string, Set<number>>();

  constructor(
    readonly store: Store,
    readonly metrics: MetricsStore,
    readonly log: Logger,
    readonly opts: LifecycleOptions,
  ) {
    // After a restart no socket is open: every tab gets the grace period to come back.
    for (const run of store.listRuns()) {
      if (run.state === 'stopped') continue;
      if (run.state === 'running')
        store.setRunState(run.id, 'waiting', 'coordinator restarted: waiting for ranks to reconnect');
      for (const p of store.activeParticipants(run.id)) {
        store.setConnected(p.id, false);
        this.startGrace(p);
      }
    }
  }

  view(run: Run): PlanView {
    let v = this.views.get(run.id);
    if (!v) this.views.set(run.id, (v = planView(run.plan, run.config)));
    return v;
  }

  getRun(id: string): Run {
    const run = this.store.getRun(id);
    if (!run) throw notFound(`run ${JSON.stringify(id)}`);
    return run;
  }

  createRun(input: { name?: string; sources: ConfigSource[]; dp?: number }): { run: Run; warnings: string[] } {
    const planned = planRun(input.sources, input.dp);
    const id = newRunId();
    const run: Run = {
      id,
      name: input.name ?? id,
      state: 'waiting',
      stateReason: 'waiting for ranks',
      paused: false,
      sources: input.sources,
      config: planned.config,
      plan: planned.plan,
      joinToken: newSecret(16),
      step: 0,
      createdAt: Date.now(),
      updatedAt: Date.now(),
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
    this.startGrace(p); // released if its socket never arrives
    return { ...base, participantId: id, secret, peerId: p.peerId };
  }

  /** A socket said hello: bind it to the participant and hand out ranks. */
  attach(participantId: string, secret: string, link: TabLink): Participant {
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
    if (p.rank !== null) {
      // Reconnected holder: repeat its assignment; it must report ready again.
      this.store.setParticipantState(p.id, 'assigned');
      link.send({
        type: 'assign',
        assignment: assignmentFor(this.view(run), run, { participantId: p.id, peerId: p.peerId }, p.rank),
      });
    }
    this.rebalance(run.id);
    return this.store.getParticipant(p.id)!;
  }

  detach(participantId: string, link: TabLink): void {
    if (this.links.get(participantId) !== link) return; // an older socket of a reconnected tab
    this.links.delete(participantId);
    const p = this.store.getParticipant(participantId);
    if (!p || p.state === 'left') return;
    this.store.setConnected(p.id, false);
    if (p.rank === null) this.leave(p.id, 'standby disconnected');
    else this.startGrace(p);
  }

  leave(participantId: string, reason: string): void {
    const p = this.store.getParticipant(participantId);
    if (!p || p.state === 'left') return;
    this.stopGrace(p.id);
    this.store.markLeft(p.id);
    this.store.addEvent(p.runId, 'left', `${p.id}${p.rank === null ? '' : ` (rank ${p.rank})`}: ${reason}`);
    this.log.info({ run: p.runId, participant: p.id, rank: p.rank, reason }, 'participant left');
    const link = this.links.get(p.id);
    this.links.delete(p.id);
    link?.close(1000, reason);
    this.rebalance(p.runId);
  }

  markReady(p: Participant, rank: number): void {
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
    this.evaluate(p.runId);
  }

  /** Progress of a rank; once every rank reported step >= train_iters the run is finished (stopped). */
  reportStep(p: Participant, step: number): void {
    this.store.advanceRunStep(p.runId, step);
    const run = this.getRun(p.runId);
    const iters = run.config.train_iters;
    if (p.rank === null || typeof iters !== 'number' || step < iters || run.state === 'stopped') return;
    let done = this.doneRanks.get(run.id);
    if (!done) this.doneRanks.set(run.id, (done = new Set()));
    done.add(p.rank);
    if (done.size < this.view(run).world) return;
    this.doneRanks.delete(run.id);
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
    this.store.setRunState(run.id, 'waiting', 'resumed by admin', false);
    this.store.addEvent(run.id, 'resumed');
    this.evaluate(run.id, run.state === 'paused');
    return this.getRun(runId);
  }

  stop(runId: string, reason = 'stopped by admin'): Run {
    const run = this.getRun(runId);
    if (run.state === 'stopped') return run;
    this.store.setRunState(run.id, 'stopped', reason);
    this.store.addEvent(run.id, 'stopped', reason);
    this.broadcast(run.id, { type: 'stop', reason }, false);
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

  close(): void {
    for (const t of this.graceTimers.values()) clearTimeout(t);
    this.graceTimers.clear();
  }

  // ---- internals
  private live(runId: string): Run {
    const run = this.getRun(runId);
    if (run.state === 'stopped') throw conflict('run_stopped', `run ${runId} is stopped`);
    return run;
  }

  private broadcast(runId: string, msg: ControlMessage, ranksOnly: boolean): void {
    for (const p of this.store.activeParticipants(runId)) if (!ranksOnly || p.rank !== null) this.send(p.id, msg);
  }

  /** Connected standbys take vacant ranks (lowest rank first, in join order); everyone learns their peers. */
  private rebalance(runId: string): void {
    const run = this.getRun(runId);
    if (run.state === 'stopped') return;
    const view = this.view(run);
    const active = this.store.activeParticipants(runId);
    const held = new Set(active.filter((p) => p.rank !== null).map((p) => p.rank));
    const vacant = Array.from({ length: view.world }, (_, r) => r).filter((r) => !held.has(r));
    const waiting = active.filter((p) => p.rank === null && p.connected);
    let changed = false;
    for (const p of waiting.splice(0, vacant.length)) {
      const rank = vacant.shift()!;
      this.store.assignRank(p.id, runId, rank);
      this.store.addEvent(runId, 'assigned', `${p.id} → rank ${rank}`);
      this.send(p.id, {
        type: 'assign',
        assignment: assignmentFor(view, run, { participantId: p.id, peerId: p.peerId }, rank),
      });
      changed = true;
    }
    waiting.forEach((p, i) => this.send(p.id, { type: 'standby', position: i + 1 }));
    if (changed || vacant.length > 0) this.sendPeers(runId, view);
    this.evaluate(runId);
  }

  private sendPeers(runId: string, view: PlanView): void {
    const holders = new Map<number, string>();
    const active = this.store.activeParticipants(runId);
    for (const p of active) if (p.rank !== null) holders.set(p.rank, p.peerId);
    for (const p of active) {
      if (p.rank === null) continue;
      this.send(p.id, {
        type: 'peers',
        peers: peersOf(view, p.rank).map((rank) => ({ rank, peerId: holders.get(rank) ?? null })),
      });
    }
  }

  /** Moves the run between waiting and running as ranks fill, get ready, or go. */
  private evaluate(runId: string, resumed = false): void {
    const run = this.getRun(runId);
    if (run.state === 'stopped' || run.paused) return;
    const view = this.view(run);
    const holders = this.store.activeParticipants(runId).filter((p) => p.rank !== null);
    const ready = holders.filter((p) => p.state === 'ready' || p.state === 'training');
    if (holders.length === view.world && ready.length === view.world) {
      if (run.state === 'running') return;
      this.store.setRunState(runId, 'running', '');
      this.store.addEvent(runId, resumed ? 'resumed-running' : 'running', `step ${run.step}`);
      for (const p of holders) {
        this.store.setParticipantState(p.id, 'training');
        this.send(p.id, resumed && p.state === 'training' ? { type: 'resume' } : { type: 'start', step: run.step });
      }
      this.log.info({ run: runId, step: run.step }, 'run running');
      return;
    }
    const reason = `${holders.length} of ${view.world} ranks held, ${ready.length} ready`;
    if (run.state === 'running') this.broadcast(runId, { type: 'pause', reason }, true);
    this.store.setRunState(runId, 'waiting', reason);
  }

  private startGrace(p: Participant): void {
    this.stopGrace(p.id);
    this.graceTimers.set(
      p.id,
      setTimeout(() => {
        this.graceTimers.delete(p.id);
        const now = this.store.getParticipant(p.id);
        if (now && !now.connected && now.state !== 'left')
          this.leave(p.id, `no connection for ${this.opts.rankGraceMs} ms`);
      }, this.opts.rankGraceMs).unref(),
    );
  }

  private stopGrace(id: string): void {
    const t = this.graceTimers.get(id);
    if (t) clearTimeout(t);
    this.graceTimers.delete(id);
  }
}
