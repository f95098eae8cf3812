// One assigned rank of a run, on the contributor page: connect to the peer ranks over WebRTC
// (PeerJS signalling on the coordinator), serve that transport to the rank worker on a
// MessagePort, have the worker train the rank, and keep the coordinator informed: `ready`
// once connected and loaded, `progress` from the TrainEvents, an error log and `leave` if the
// rank fails. The coordinator's start/pause/resume/stop go to the worker's RunGate.
import * as Comlink from 'comlink';
import { unlockHostCandidates } from '../comm/ice';
import { PeerTransport, type SignallingServer } from '../comm/peerjs-transport';
import { serveComm } from '../comm/worker-bridge';
import type { Assignment, JoinResponse } from '../protocol';
import type { TrainEvent } from '../train/events';
import type { TrainConfig } from '../train/setup';
import type { RankJob, RankOutcome, RankWorkerApi } from '../../workers/rank.worker';
import type { Control, RunConnection } from './join';
import { ProgressReport } from './progress-report';
import type { GateState } from './run-gate';

const PEERS_GRACE_MS = 5_000;

export type SessionState =
  | 'connecting'
  | 'loading'
  | 'waiting-start'
  | 'running'
  | 'paused'
  | 'done'
  | 'stopped'
  | 'error';

export interface RankSessionOptions {
  assignment: Assignment;
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

export class RankSession {
  state: SessionState = 'connecting';
  outcome: RankOutcome | null = null;
  readonly finished: Promise<RankOutcome | null>;
  private transport: PeerTransport | null = null;
  private peersHeld!: () => void;
  private readonly peersReady = new Promise<void>((r) => (this.peersHeld = r));
  private started = false;
  private startReceived!: () => void;
  private readonly startSignal = new Promise<void>((r) => (this.startReceived = r));
  private stopping: string | null = null;
  private reportedReady = false;
  private sawPeers = false;

  constructor(private readonly o: RankSessionOptions) {
    this.finished = this.run().catch((e: Error) => {
      this.fail(e.message);
      return null;
    });
  }

  /** The coordinator assigned this rank again (the control socket reconnected): it wants
   *  `ready` again before it lets the run go on. */
  reassigned(): void {
    if (this.reportedReady && !this.stopping && this.state !== 'error') this.o.connection.ready();
  }

  /** The coordinator's control messages for this tab. */
  control(msg: Control): void {
    switch (msg.type) {
      case 'peers':
        this.sawPeers = true;
        if (msg.peers.every((p) => p.peerId !== null)) this.peersHeld();
        return;
      case 'start':
        this.started = true;
        this.startReceived();
        void this.o.worker.start();
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
        return;
    }
  }

  stop(reason: string): void {
    if (this.stopping || this.state === 'error') return;
    this.stopping = reason;
    void this.o.worker.stop(reason);
    // let a worker that already finished hand its last messages over before the links close
    setTimeout(() => this.transport?.close(), 1000);
  }

  private set(s: SessionState, text: string): void {
    this.state = s;
    this.o.onState?.(s, text);
  }

  private async run(): Promise<RankOutcome | null> {
    const a = this.o.assignment;
    const c = a.config as unknown as TrainConfig & { data_path?: string | null };
    if (c.data_path)
      throw new Error(
        `data_path ${JSON.stringify(c.data_path)} is a file on the coordinator's machine; tabs train on the default corpus only (remove data_path)`,
      );
    const peers = linkedRanks(a);
    if (peers.length > 0) {
      this.set('connecting', `Rank ${a.rank}: waiting for ranks ${peers.join(', ')} to join…`);
      // A first assignment is followed by the list of peers; a tab that rejoins with its old
      // rank (after a reload) gets none, as nothing changed: then it just dials its peers.
      await Promise.race([
        this.peersReady,
        new Promise<void>((r) =>
          setTimeout(() => {
            if (!this.sawPeers) r();
          }, PEERS_GRACE_MS),
        ),
      ]);
      this.set('connecting', `Rank ${a.rank}: connecting to ranks ${peers.join(', ')} over WebRTC…`);
      await unlockHostCandidates();
      this.transport = await PeerTransport.connect({
        rank: a.rank,
        worldSize: a.sizes.world,
        runId: a.runId,
        peers,
        server: signallingServer(this.o.coordinatorUrl, this.o.connection.join.peerServer),
        connectTimeoutMs: this.o.connectTimeoutMs ?? 60_000,
      });
      this.transport.onPeerLost((rank, err) => {
        if (!this.stopping)
          this.o.connection.send({
            type: 'log',
            level: 'warn',
            message: `rank ${a.rank} lost rank ${rank}: ${err.message}`.slice(0, 2000),
          });
      });
    }
    if (this.stopping) return null;
    this.set(
      'loading',
      `Rank ${a.rank}: loading stage ${a.coords.pp} (layers ${a.layers.start}–${a.layers.end - 1}), data replica ${a.data.dpRank + 1}/${a.data.dpSize}…`,
    );
    const { port1, port2 } = new MessageChannel();
    if (this.transport) serveComm(this.transport, port1);
    if (peers.length === 0) {
      this.ready(); // no network operation to wait at: wait for start here
      await this.startSignal;
    }
    const { participantId, secret } = this.o.connection.join;
    const job: RankJob = {
      config: c,
      corpusText: null,
      rank: a.rank,
      world: a.sizes.world,
      groups: { dp: a.groups.dp, pp: a.groups.pp },
      maxSteps: this.o.maxSteps,
      checkpoints: { coordinatorUrl: this.o.coordinatorUrl, runId: a.runId, auth: { participantId, secret } },
    };
    const report = new ProgressReport((m) => this.o.connection.send(m));
    const onEvent = (e: TrainEvent) => {
      report.add(e);
      this.o.onEvent?.(e);
    };
    const onGate = (s: GateState, step?: number) => {
      if (s === 'waiting-start') {
        this.set('waiting-start', `Rank ${a.rank}: connected and loaded; waiting for every rank…`);
        this.ready();
      } else if (s === 'running') this.set('running', `Rank ${a.rank}: training.`);
      else if (s === 'paused') this.set('paused', `Rank ${a.rank}: paused after step ${step}.`);
    };
    try {
      const outcome = await this.o.worker.trainRank(
        job,
        Comlink.transfer(port2, [port2]),
        Comlink.proxy(onEvent),
        Comlink.proxy(onGate),
      );
      report.flush();
      this.outcome = outcome;
      if (outcome.stopped) this.set('stopped', `Rank ${a.rank}: stopped (${outcome.reason}).`);
      else
        this.set(
          'done',
          `Rank ${a.rank}: done: train loss ${outcome.trainLoss.toFixed(4)}, validation loss ${outcome.validLoss.toFixed(4)}.`,
        );
      return outcome;
    } catch (e) {
      if (!this.stopping) throw e;
      this.outcome = { stopped: true, reason: this.stopping };
      this.set('stopped', `Rank ${a.rank}: stopped (${this.stopping}).`);
      return this.outcome;
    }
  }

  private ready(): void {
    if (this.reportedReady) return;
    this.reportedReady = true;
    this.o.connection.ready();
    if (this.started) void this.o.worker.start(); // a start that came before (after a reconnect)
  }

  private fail(message: string): void {
    if (this.stopping) return;
    const rank = this.o.assignment.rank;
    this.set('error', `Rank ${rank} failed: ${message}`);
    this.o.connection.send({ type: 'log', level: 'error', message: `rank ${rank} failed: ${message}`.slice(0, 2000) });
    this.o.connection.leave(`rank ${rank} failed: ${message}`.slice(0, 500));
    this.transport?.close();
  }
}
