// A communication group: an ordered list of global ranks over one transport (TP, PP and
// DP groups of the 3D trainer share one transport). Positions are indices into `ranks`.

import { CommError, type Transport } from './transport';

export class Group {
  /** this rank's position in `ranks` */
  readonly position: number;
  readonly size: number;
  private seq = 0;

  constructor(
    readonly transport: Transport,
    readonly ranks: readonly number[],
    readonly name = `[${ranks.join(',')}]`,
  ) {
    if (ranks.length === 0) throw new Error(`group ${name}: no ranks`);
    if (new Set(ranks).size !== ranks.length)
      throw new Error(`group ${name}: repeated rank in ${JSON.stringify(ranks)}`);
    for (const r of ranks) {
      if (!Number.isInteger(r) || r < 0 || r >= transport.worldSize)
        throw new Error(`group ${name}: rank ${r} is outside world of ${transport.worldSize}`);
    }
    this.position = ranks.indexOf(transport.rank);
    if (this.position < 0) throw new Error(`group ${name}: this rank (${transport.rank}) is not a member`);
    this.size = ranks.length;
  }

  rankAt(position: number): number {
    return this.ranks[((position % this.size) + this.size) % this.size];
  }

  /** A fresh tag for the next collective; every member must call collectives in the same order. */
  nextTag(op: string): string {
    return `${this.name}:${op}#${this.seq++}`;
  }

  /** Runs `body`, failing as soon as any member of the group is lost (so ranks that are
   *  not neighbours of a dead tab fail fast too, instead of waiting out a timeout). */
  guard<T>(op: string, body: () => Promise<T>): Promise<T> {
    const t = this.transport;
    for (const r of this.ranks) {
      const lost = t.lostPeer(r);
      if (lost) return Promise.reject(new CommError(op, t.rank, r, lost.reason));
    }
    let unsubscribe = (): void => {};
    const lostPromise = new Promise<never>((_, reject) => {
      unsubscribe = t.onPeerLost((r, err) => {
        if (this.ranks.includes(r)) reject(new CommError(op, t.rank, r, err.reason));
      });
    });
    const work = body();
    work.catch(() => {}); // a lost peer may leave `work` to fail later; its error is reported by the race
    return Promise.race([work, lostPromise]).finally(unsubscribe);
  }
}
