// In-memory transport: N ranks in one process (unit tests of everything above the
// transport). Messages are copied on send, as a network would, and delivered on a
// later microtask; `disconnect(rank)` simulates a tab that goes away.

import { Mailbox } from './mailbox';
import { PeerHealth } from './peer-health';
import { bytesOf, checkRank, CommError, type PeerLostListener, type RecvOptions, type SendOptions, type Tag, type Transport } from './transport';

export interface LoopbackWorld {
  readonly transports: LoopbackTransport[];
  /** Makes `rank` vanish: its peers' pending and future operations with it fail. */
  disconnect(rank: number): void;
}

export function createLoopbackWorld(size: number): LoopbackWorld {
  if (!Number.isInteger(size) || size < 1) throw new Error(`loopback world size must be a positive integer, got ${size}`);
  const transports: LoopbackTransport[] = [];
  for (let r = 0; r < size; r++) transports.push(new LoopbackTransport(r, size, transports));
  return {
    transports,
    disconnect(rank: number) {
      const gone = transports[rank];
      if (!gone) throw new Error(`loopback: no rank ${rank}`);
      gone.close();
    },
  };
}

export class LoopbackTransport implements Transport {
  private readonly inbox: Mailbox[];
  private readonly health: PeerHealth;
  private closed = false;

  constructor(readonly rank: number, readonly worldSize: number, private readonly world: readonly LoopbackTransport[]) {
    this.health = new PeerHealth(rank);
    this.inbox = Array.from({ length: worldSize }, (_, peer) => new Mailbox(rank, peer));
  }

  async send(to: number, tag: Tag, data: ArrayBufferView, opts: SendOptions = {}): Promise<void> {
    const op = opts.op ?? 'send';
    checkRank(this, to, op);
    if (this.closed) throw new CommError(op, this.rank, to, 'this transport is closed');
    const lost = this.health.get(to);
    if (lost) throw new CommError(op, this.rank, to, lost.reason);
    const copy = bytesOf(data).slice();
    await Promise.resolve();
    const target = this.world[to];
    target.inbox[this.rank].announce({ tag, bytes: copy.byteLength, data: Promise.resolve(copy), received: () => copy.byteLength });
  }

  recv(from: number, tag: Tag, opts: RecvOptions = {}): Promise<Uint8Array> {
    checkRank(this, from, opts.op ?? 'recv');
    return this.inbox[from].take(tag, opts);
  }

  onPeerLost(listener: PeerLostListener): () => void {
    return this.health.subscribe(listener);
  }

  lostPeer(rank: number): CommError | undefined {
    return this.health.get(rank);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.world) if (t !== this) t.peerLost(this.rank, 'peer closed its transport');
    for (const m of this.inbox) m.fail('this transport is closed');
  }

  private peerLost(peer: number, reason: string): void {
    if (this.closed) return;
    this.inbox[peer].fail(`peer lost: ${reason}`);
    this.health.markLost(peer, reason);
  }
}
