// This tab's part in a run, on the contributor page, across membership generations. For each
// `generation` the coordinator sends: connect to the rank's peers over WebRTC (PeerJS ids carry
// the generation, so a rank's new holder is never confused with its old one), serve that
// transport to the rank worker on a MessagePort, have the worker restore the rank's state and
// report `ready`, then train from the coordinator's `start`. On `halt` the worker stops at a
// safe point and the tab reports what it can restore (`halted`); so does a worker whose peer
// failed. Progress goes to the coordinator as `progress` messages throughout.
import * as Comlink from 'comlink';
import { unlockHostCandidates } from '../comm/ice';
import { PeerTransport, type SignallingServer } from '../comm/peerjs-transport';
import { serveComm } from '../comm/worker-bridge';
import type { Assignment, GenerationPlan, JoinResponse } from '../protocol';
import type { TrainEvent } from '../train/events';
import type { TrainConfig } from '../train/setup';
import type { RankWorkerApi } from '../../workers/rank.worker';
import type { Control, RunConnection } from './join';
import { ProgressReport } from './progress-report';
import type { GateState } from './run-gate';

export type SessionState =
  | 'connecting'
  | 'loading'
  | 'waiting-start'
  | 'running'
  | 'paused'
  | 'recovering'
  | 'done'
  | 'stopped'
  | 'error';

export interface RankSessionOptions {
  connection: RunConnection;
  worker: Comlink.Remote<RankWorkerApi>;
  coordinatorUrl: string;
  onEvent?: (e: TrainEvent) => void;
  onState?: (s: SessionState, text: string) => void;
  /** stop after this many steps (default: the config's train_iters) */
  maxSteps?: number;
  connectTimeoutMs?: number;
}

/** Every rank this one exchanges tensors with: its TP, PP and DP groups (collectives run
 *  over whole groups, so ring neighbours beyond the pipeline's next stage count too). */
export function linkedRanks(a: Assignment): number[] {
  return [...new Set([...a.groups.tp, ...a.groups.pp, ...a.groups.dp])]
    .filter((r) => r !== a.rank)
    .sort((x, y) => x - y);
}

export function signallingServer(coordinatorUrl: string, peerServer: JoinResponse['peerServer']): SignallingServer {
  if (!peerServer)
    throw new Error(
      `the coordinator at ${coordinatorUrl} runs no PeerJS server, so ranks cannot connect to each other`,
    );
  const u = new URL(coordinatorUrl);
  const secure = u.protocol === 'https:';
  return {
    host: u.hostname,
    port: Number(u.port || (secure ? 443 : 80)),
    path: peerServer.path,
    key: peerServer.key,
    secure,
  };
}

const layoutOf = (a: Assignment) => ({
  tp: a.sizes.tp,
  pp: a.sizes.pp,
  dp: a.sizes.dp,
  accum: a.data.gradientAccumulationSteps,
});

export class RankSession {
  state: SessionState = 'connecting';
  /** the generation this tab trains (0: none yet) */
  generation = 0;
  assignment: Assignment | null = null;
  private transport: PeerTransport | null = null;
  private joined: Promise<void> | null = null;
  /** set by `halt`: the generation the run moves to */
  private haltTarget: number | null = null;
  private running: Promise<void> | null = null;
  /** the generation being set up or trained, with a way to abandon its connecting */
  private current: { generation: number; abort: AbortController } | null = null;
  private stopped: string | null = null;
  private readonly report: ProgressReport;

  constructor(private readonly o: RankSessionOptions) {
    // each step's report carries the bytes and throughput of this rank's links (the admin page's links view)
    this.report = new ProgressReport(
      (m) => this.o.connection.send(m),
      () => this.transport?.meter.take() ?? [],
    );
  }

  /** The coordinator told this tab which rank it holds (first, or again after a reconnect). */
  assigned(a: Assignment): void {
    this.assignment = a;
    if (this.state === 'connecting')
      this.set('loading', `Rank ${a.rank} of ${a.sizes.world}: waiting for the run to start…`);
  }

  /** The coordinator's control messages for this tab. */
  control(msg: Control): void {
    switch (msg.type) {
      case 'generation':
        this.beginGeneration(msg.plan, msg.assignment);
        return;
      case 'halt':
        void this.halt(msg.generation, msg.reason);
        return;
      case 'start':
        if (msg.generation === undefined || msg.generation === this.generation) void this.o.worker.start();
        return;
      case 'pause':
        void this.o.worker.pause();
        return;
      case 'resume':
        void this.o.worker.resume();
        return;
      case 'stop':
        this.stop(msg.reason);
        return;
      case 'error':
        if (msg.fatal) this.stop(msg.message);
        return;
      case 'standby':
      case 'pong':
      case 'peers':
        return;
    }
  }

  stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = reason;
    void this.o.worker.stop(reason);
    // let a worker that already finished hand its last messages over before the links close
    setTimeout(() => this.transport?.close(), 1000);
    this.set('stopped', `Stopped (${reason}).`);
  }

  private set(s: SessionState, text: string): void {
    this.state = s;
    this.o.onState?.(s, text);
  }

  private onEvent = (e: TrainEvent): void => {
    this.report.add(e);
    if (e.kind === 'restored') {
      this.o.connection.send({ type: 'restored', generation: e.generation, step: e.step, from: e.from, ms: e.ms });
      const how = {
        keep: 'its own memory',
        'dp-peer': "a replica's copy",
        local: "this tab's own snapshot",
        checkpoint: 'the last checkpoint',
        init: 'fresh weights',
      }[e.from];
      if (e.generation > 1 || e.from === 'local')
        this.set('recovering', `Resumed at step ${e.step} from ${how}; waiting for the other ranks…`);
    }
    this.o.onEvent?.(e);
  };

  private join(config: TrainConfig, runId: string): Promise<void> {
    const { participantId, secret } = this.o.connection.join;
    this.joined ??= this.o.worker.join(
      {
        runId,
        config,
        data: { kind: 'coordinator', coordinatorUrl: this.o.coordinatorUrl, runId, auth: { participantId, secret } },
        maxSteps: this.o.maxSteps,
        checkpoints: { coordinatorUrl: this.o.coordinatorUrl, auth: { participantId, secret } },
        snapshotInterval: config.snapshot_interval ?? null,
      },
      Comlink.proxy(this.onEvent),
    );
    return this.joined;
  }

  private beginGeneration(plan: GenerationPlan, a: Assignment): void {
    this.assignment = a;
    this.generation = plan.generation;
    this.haltTarget = null;
    const previous = this.running ?? Promise.resolve();
    this.running = previous.then(() => this.runGeneration(plan, a)).catch((e: Error) => this.fail(e.message));
  }

  private async runGeneration(plan: GenerationPlan, a: Assignment): Promise<void> {
    if (this.stopped || plan.generation !== this.generation) return;
    const abort = new AbortController();
    this.current = { generation: plan.generation, abort };
    try {
      const c = a.config as unknown as TrainConfig;
      await this.join(c, a.runId);
      const peers = linkedRanks(a);
      try {
        if (peers.length > 0) {
          this.set('connecting', `Rank ${a.rank}: connecting to ranks ${peers.join(', ')} over WebRTC…`);
          await unlockHostCandidates();
          this.transport = await PeerTransport.connect({
            rank: a.rank,
            worldSize: a.sizes.world,
            runId: a.runId,
            generation: plan.generation,
            peers,
            server: signallingServer(this.o.coordinatorUrl, this.o.connection.join.peerServer),
            connectTimeoutMs: this.o.connectTimeoutMs ?? 60_000,
            signal: abort.signal,
          });
        }
      } catch (e) {
        // no connection to this generation's peers (or halted meanwhile): the coordinator plans again
        await this.sendHalted(this.haltTarget ?? plan.generation, `rank ${a.rank}: ${(e as Error).message}`, a);
        return;
      }
      const { port1, port2 } = new MessageChannel();
      if (this.transport) serveComm(this.transport, port1);
      this.set(
        'loading',
        `Rank ${a.rank}: restoring stage ${a.coords.pp} (layers ${a.layers.start}–${a.layers.end - 1}), replica ${a.data.dpRank + 1}/${a.data.dpSize}…`,
      );
      const onReady = () => {
        this.o.connection.send({ type: 'ready', rank: a.rank, generation: plan.generation });
        this.set('waiting-start', `Rank ${a.rank}: ready at step ${plan.step}; waiting for every rank…`);
      };
      const onGate = (s: GateState, step?: number) => {
        if (s === 'running') this.set('running', `Rank ${a.rank}: training.`);
        else if (s === 'paused') this.set('paused', `Rank ${a.rank}: paused after step ${step}.`);
      };
      if (abort.signal.aborted) void this.o.worker.halt('halted before the generation began');
      const out = await this.o.worker.runGeneration(
        { plan, rank: a.rank, groups: { dp: a.groups.dp, pp: a.groups.pp, tp: a.groups.tp } },
        Comlink.transfer(port2, [port2]),
        Comlink.proxy(onReady),
        Comlink.proxy(onGate),
      );
      this.report.flush();
      if (out.kind === 'done')
        this.set(
          'done',
          `Rank ${a.rank}: done: train loss ${out.trainLoss.toFixed(4)}, validation loss ${out.validLoss.toFixed(4)}.`,
        );
      else if (out.kind === 'halted') {
        this.closeTransport();
        this.set('recovering', `Rank ${a.rank}: the run is changing membership (${out.reason}); waiting…`);
        this.o.connection.send({
          type: 'halted',
          generation: this.haltTarget ?? plan.generation,
          reason: out.reason.slice(0, 500),
          report: out.report,
        });
      }
    } finally {
      if (this.current?.abort === abort) this.current = null;
    }
  }

  private async halt(target: number, reason: string): Promise<void> {
    this.haltTarget = target;
    this.report.flush();
    this.set('recovering', `The run is changing membership (${reason}); stopping at a safe point…`);
    if (this.current) {
      // the generation in flight answers when it unwinds (runGeneration sends `halted`)
      this.current.abort.abort();
      void this.o.worker.halt(reason);
      this.closeTransport();
      return;
    }
    if (this.assignment) await this.sendHalted(target, reason, this.assignment);
  }

  private closeTransport(): void {
    this.transport?.close();
    this.transport = null;
  }

  private async sendHalted(target: number, reason: string, a: Assignment): Promise<void> {
    // a tab that just reloaded has no rank set up yet: its snapshots are found once it has
    await this.join(a.config as unknown as TrainConfig, a.runId);
    const report = await this.o.worker.report(layoutOf(a), a.rank);
    this.o.connection.send({ type: 'halted', generation: target, reason: reason.slice(0, 500), report });
  }

  private fail(message: string): void {
    if (this.stopped) return;
    const rank = this.assignment?.rank;
    this.set('error', `Rank ${rank} failed: ${message}`);
    this.o.connection.send({ type: 'log', level: 'error', message: `rank ${rank} failed: ${message}`.slice(0, 2000) });
    this.o.connection.leave(`rank ${rank} failed: ${message}`.slice(0, 500));
    this.transport?.close();
  }
}
