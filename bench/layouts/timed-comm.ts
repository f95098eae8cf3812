// A RankComm that records when each of its calls started and ended (absolute performance.now()
// ms), and, in serial mode, lets only one rank run at a time: a rank gives up the baton when it
// blocks in a recv or a collective and takes it back (in FIFO order) before the call returns.
// The ranks of one process then never have GPU work in flight together, so each op's span is
// that rank's own work: the calibration for "as if each stage had its own device". Sends leave
// the baton alone: the pipeline runs them in the background (readback, then send) while the
// rank goes on, so they do not mark where the rank waits.
import type { GroupSpec } from '../../src/comm/worker-bridge';
import type { RankComm } from '../../src/train/distributed/rank-comm';

export interface CommCall {
  what: string;
  group?: string;
  tag?: string;
  start: number;
  end: number;
}

export class Baton {
  private held = false;
  private readonly waiting: (() => void)[] = [];

  acquire(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.held = false;
  }
}

export interface TimedComm {
  comm: RankComm;
  calls: CommCall[];
}

/** Wraps `inner`; with a baton the rank must already hold it (acquire before trainRank). */
export function timedComm(inner: RankComm, baton: Baton | null): TimedComm {
  const calls: CommCall[] = [];
  const wrap = async <T>(what: string, g: GroupSpec | undefined, f: () => Promise<T>, tag?: string): Promise<T> => {
    const call: CommCall = { what, group: g?.name, tag, start: performance.now(), end: NaN };
    calls.push(call);
    const blocks = baton !== null && what !== 'send';
    if (blocks) baton.release();
    try {
      return await f();
    } finally {
      if (blocks) await baton.acquire();
      call.end = performance.now();
    }
  };
  const comm: RankComm = {
    rank: inner.rank,
    allReduce: (a, g, op) => wrap('allReduce', g, () => inner.allReduce(a, g, op)),
    reduceScatter: (a, g, op) => wrap('reduceScatter', g, () => inner.reduceScatter(a, g, op)),
    allGather: (a, g) => wrap('allGather', g, () => inner.allGather(a, g)),
    broadcast: (a, g, root) => wrap('broadcast', g, () => inner.broadcast(a, g, root)),
    send: (to, tag, a) => wrap('send', undefined, () => inner.send(to, tag, a), tag),
    recv: (from, tag, bytes) => wrap('recv', undefined, () => inner.recv(from, tag, bytes), tag),
    // device-local collectives are not comm calls: they cannot hand the baton over
    ...(inner.device && !baton ? { device: inner.device } : {}),
  };
  return { comm, calls };
}
