// Stopping a rank at a safe point when the run changes membership. The coordinator (or a
// failed peer) halts the generation: every network operation of the rank then fails with
// Halted, the step in progress unwinds, and the rank reports which steps it can restore.
import type { RankComm } from '../distributed/rank-comm';

export class Halted extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'Halted';
  }
}

/** A latch that, once tripped, fails everything raced against it. */
export class HaltSignal {
  private trip!: (e: Halted) => void;
  private reason: Halted | null = null;
  /** rejects with Halted when the signal trips; never resolves */
  readonly promise: Promise<never>;

  constructor() {
    this.promise = new Promise<never>((_, reject) => {
      this.trip = reject;
    });
    this.promise.catch(() => {}); // tripping before anyone waits is not an unhandled rejection
  }

  get halted(): Halted | null {
    return this.reason;
  }

  halt(reason: string): void {
    if (this.reason) return;
    this.reason = new Halted(reason);
    this.trip(this.reason);
  }

  /** Throws Halted once tripped (call at step boundaries). */
  check(): void {
    if (this.reason) throw this.reason;
  }

  /** `work`, or Halted as soon as the signal trips. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.reason) {
      work.catch(() => {});
      return Promise.reject(this.reason);
    }
    work.catch(() => {}); // an operation abandoned by a halt may still fail later
    return Promise.race([work, this.promise]);
  }
}

/** `comm` with every operation failing with Halted once `signal` trips. */
export function haltable(comm: RankComm, signal: HaltSignal): RankComm {
  return {
    rank: comm.rank,
    allReduce: (a, g, op) => signal.race(Promise.resolve().then(() => comm.allReduce(a, g, op))),
    reduceScatter: (a, g, op) => signal.race(Promise.resolve().then(() => comm.reduceScatter(a, g, op))),
    allGather: (a, g) => signal.race(Promise.resolve().then(() => comm.allGather(a, g))),
    broadcast: (a, g, root) => signal.race(Promise.resolve().then(() => comm.broadcast(a, g, root))),
    send: (to, tag, a) => signal.race(Promise.resolve().then(() => comm.send(to, tag, a))),
    recv: (from, tag, bytes) => signal.race(Promise.resolve().then(() => comm.recv(from, tag, bytes))),
    // device-local collectives (ranks of one process): a member that stops posting fails the
    // others after the group's timeout, and a failed rank is reported to the hub by its runner
    ...(comm.device ? { device: comm.device } : {}),
  };
}

/** A RankComm whose underlying comm changes with each generation (the trainer keeps one). */
export class SwitchableComm implements RankComm {
  current: RankComm | null = null;

  get rank(): number {
    return this.c.rank;
  }

  /** the current comm's device-local collectives (RankComm.device), if it has them */
  get device(): RankComm['device'] {
    return this.current?.device;
  }

  private get c(): RankComm {
    if (!this.current) throw new Error('no network: the rank is between generations');
    return this.current;
  }

  allReduce: RankComm['allReduce'] = (a, g, op) => this.c.allReduce(a, g, op);
  reduceScatter: RankComm['reduceScatter'] = (a, g, op) => this.c.reduceScatter(a, g, op);
  allGather: RankComm['allGather'] = (a, g) => this.c.allGather(a, g);
  broadcast: RankComm['broadcast'] = (a, g, root) => this.c.broadcast(a, g, root);
  send: RankComm['send'] = (to, tag, a) => this.c.send(to, tag, a);
  recv: RankComm['recv'] = (from, tag, bytes) => this.c.recv(from, tag, bytes);
}
