// What every Transport built on one Mailbox per peer shares: matching receives to
// announced messages, and keeping track of which peers are lost.
import { LinkMeter } from './link-meter';
import { Mailbox } from './mailbox';
import { PeerHealth } from './peer-health';
import { checkRank, CommError, type PeerLostListener, type RecvOptions, type Tag } from './transport';

export abstract class MailboxTransport {
  protected readonly health: PeerHealth;
  /** inbox[peer]: messages from that peer */
  protected readonly inbox: Mailbox[];
  protected closed = false;
  readonly meter = new LinkMeter();

  constructor(
    readonly rank: number,
    readonly worldSize: number,
  ) {
    this.health = new PeerHealth(rank);
    this.inbox = Array.from({ length: worldSize }, (_, peer) => new Mailbox(rank, peer));
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

  /** Throws unless a message may go to `to` now: a real other rank, this transport open, the peer not lost. */
  protected checkSend(to: number, op: string): void {
    checkRank(this, to, op);
    if (this.closed) throw new CommError(op, this.rank, to, 'this transport is closed');
    const lost = this.health.get(to);
    if (lost) throw new CommError(op, this.rank, to, lost.reason);
  }

  /** Fails everything pending from `peer` and tells the listeners, once (not after close). */
  protected peerGone(peer: number, reason: string): void {
    if (this.closed) return;
    this.inbox[peer].fail(`peer lost: ${reason}`);
    this.health.markLost(peer, reason);
  }
}
