// What every Transport built on one Mailbox per peer shares: matching receives to
// announced messages, and keeping track of which peers are lost.
import { Mailbox } from './mailbox';
import { PeerHealth } from './peer-health';
import { checkRank, type CommError, type PeerLostListener, type RecvOptions, type Tag } from './transport';

export abstract class MailboxTransport {
  protected readonly health: PeerHealth;
  /** inbox[peer]: messages from that peer */
  protected readonly inbox: Mailbox[];

  constructor(readonly rank: number, readonly worldSize: number) {
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

  /** Fails everything pending from `peer` and tells the listeners, once. */
  protected peerGone(peer: number, reason: string): void {
    this.inbox[peer].fail(`peer lost: ${reason}`);
    this.health.markLost(peer, reason);
  }
}
