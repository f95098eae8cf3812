// Start, pause, resume and stop for one rank of a multi-rank run, applied where it is safe:
// in front of the rank's network operations. Training runs locally until its first network
// operation, which waits for `start`. After each optimizer step (`boundary()`), the next
// network operation first agrees with the other ranks whether anyone was asked to pause
// (a sum over the rank's data-parallel group, then its pipeline group, then its tensor-parallel
// group: in a TP × PP × DP grid that reaches every rank), so all ranks pause after the same step
// and nobody is left waiting mid-step on a paused peer. A stop fails the next network operation.
import type { GroupSpec } from '../comm/worker-bridge';
import type { RankComm } from '../train/distributed/rank-comm';

export type GateState = 'waiting-start' | 'running' | 'paused' | 'stopped';

export class RunStopped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RunStopped';
  }
}

interface Latch {
  promise: Promise<void>;
  open(): void;
  fail(e: Error): void;
}

function latch(): Latch {
  let open!: () => void, fail!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    open = res;
    fail = rej;
  });
  promise.catch(() => {}); // a stop before anyone waits is not an unhandled rejection
  return { promise, open, fail };
}

export class RunGate {
  private started = latch();
  private resumed: Latch | null = null;
  private turn: Promise<void>;
  private paused = false;
  /** resumes received since the last agreement */
  private freshResumes = 0;
  private atBoundary = false;
  private stoppedBy: RunStopped | null = null;
  private agreements = 0;
  private startedOnce = false;

  /** `groups`: this rank's data-, pipeline- and tensor-parallel groups (itself included; tp
   *  left out: none). Without tp, two TP slices could disagree: one paused, the other blocked in
   *  its next step's TP sum with it. */
  constructor(
    private readonly comm: RankComm,
    private readonly groups: { dp: number[]; pp: number[]; tp?: number[] },
    private readonly onState: (s: GateState, step?: number) => void = () => {},
  ) {
    this.turn = this.started.promise;
  }

  /** The coordinator's `start`; a second one (after a pause) counts as a resume. */
  start(): void {
    if (this.startedOnce) return this.resume();
    this.startedOnce = true;
    this.started.open();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.freshResumes++;
    this.resumed?.open();
  }

  stop(reason = 'the run was stopped'): void {
    if (this.stoppedBy) return;
    this.stoppedBy = new RunStopped(reason);
    this.started.fail(this.stoppedBy);
    this.resumed?.fail(this.stoppedBy);
    this.onState('stopped');
  }

  /** Call after every optimizer step: the next network operation checks for a pause first. */
  boundary(): void {
    this.atBoundary = true;
  }

  /** The rank's comm with every operation behind the gate. */
  wrap(): RankComm {
    const c = this.comm;
    return {
      rank: c.rank,
      allReduce: async (a, g, op) => {
        await this.pass();
        return c.allReduce(a, g, op);
      },
      reduceScatter: async (a, g, op) => {
        await this.pass();
        return c.reduceScatter(a, g, op);
      },
      allGather: async (a, g) => {
        await this.pass();
        return c.allGather(a, g);
      },
      broadcast: async (a, g, root) => {
        await this.pass();
        return c.broadcast(a, g, root);
      },
      send: async (to, tag, a) => {
        await this.pass();
        return c.send(to, tag, a);
      },
      recv: async (from, tag, bytes) => {
        await this.pass();
        return c.recv(from, tag, bytes);
      },
    };
  }

  private firstPass = true;

  private async pass(): Promise<void> {
    if (this.stoppedBy) throw this.stoppedBy;
    if (this.firstPass) {
      this.firstPass = false;
      this.onState('waiting-start');
      this.turn = this.turn.then(() => this.onState('running'));
    }
    if (this.atBoundary) {
      this.atBoundary = false;
      this.turn = this.turn.then(() => this.agree());
    }
    await this.turn;
    if (this.stoppedBy) throw this.stoppedBy;
  }

  /** Every rank runs this once per boundary, in the same order, so the sums pair up. */
  private async agree(): Promise<void> {
    const n = ++this.agreements;
    let votes: Float32Array = Float32Array.of(this.paused ? 1 : 0);
    for (const [name, ranks] of [
      ['dp', this.groups.dp],
      ['pp', this.groups.pp],
      ['tp', this.groups.tp ?? []],
    ] as const) {
      if (ranks.length > 1)
        votes = await this.comm.allReduce(
          votes,
          { ranks, name: `pause-${name}[${ranks.join(',')}]` } satisfies GroupSpec,
          'sum',
        );
    }
    // Someone was asked to pause. Every rank gets the same pause and then resume, so a rank
    // that is not paused but saw no resume since the last agreement has its pause still to
    // come: it waits for the resume too. One that saw both already goes straight on.
    if (votes[0] > 0 && (this.paused || this.freshResumes === 0)) {
      this.onState('paused', n);
      this.resumed = latch();
      if (this.stoppedBy) this.resumed.fail(this.stoppedBy);
      await this.resumed.promise;
      this.resumed = null;
      this.onState('running');
    }
    this.freshResumes = 0;
  }
}
