// Which peers are gone, and who wants to hear about it (shared by every transport).
import { CommError, type PeerLostListener } from './transport';

export class PeerHealth {
  private readonly lost = new Map<number, CommError>();
  private readonly listeners = new Set<PeerLostListener>();

  constructor(readonly rank: number) {}

  get(peer: number): CommError | undefined {
    return this.lost.get(peer);
  }

  subscribe(listener: PeerLostListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records the loss once; returns false if the peer was already known lost. */
  markLost(peer: number, reason: string): boolean {
    if (this.lost.has(peer)) return false;
    const err = new CommError('transport', this.rank, peer, `peer lost: ${reason}`);
    this.lost.set(peer, err);
    for (const l of [...this.listeners]) l(peer, err);
    return true;
  }
}
