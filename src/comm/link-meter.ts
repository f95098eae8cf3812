// Per-peer traffic accounting for a transport: message bytes sent and received (payload only,
// not framing) and how long sends to each peer were in progress, so that bytes / sendMs is the
// rate a link delivered while it was busy. A send counts from the call until the transport has
// handed its last byte to the network (socket drained, data channel buffer below its high
// water mark); overlapping sends to one peer count their union once. `take()` returns what
// happened since the previous take (a step's or a round's worth); `totals()` everything.

export interface LinkStats {
  peer: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  /** ms with at least one send to this peer in progress */
  sendMs: number;
}

interface PeerCounters extends LinkStats {
  inFlight: number;
  busySince: number;
}

const ZERO = { bytesSent: 0, bytesReceived: 0, messagesSent: 0, messagesReceived: 0, sendMs: 0 };

export class LinkMeter {
  private readonly peers = new Map<number, PeerCounters>();
  private readonly taken = new Map<number, LinkStats>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  private of(peer: number): PeerCounters {
    let c = this.peers.get(peer);
    if (!c) this.peers.set(peer, (c = { peer, ...ZERO, inFlight: 0, busySince: 0 }));
    return c;
  }

  /** A send of `bytes` to `peer` begins; call the returned function once when it ends (or fails). */
  sending(peer: number, bytes: number): () => void {
    const c = this.of(peer);
    c.bytesSent += bytes;
    c.messagesSent++;
    if (c.inFlight++ === 0) c.busySince = this.now();
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      if (--c.inFlight === 0) c.sendMs += this.now() - c.busySince;
    };
  }

  /** `bytes` arrived from `peer`, completing `messages` messages (a piece of one: 0). */
  received(peer: number, bytes: number, messages = 1): void {
    const c = this.of(peer);
    c.bytesReceived += bytes;
    c.messagesReceived += messages;
  }

  /** Counters since this meter was made, busy time up to now; peers in rank order. */
  totals(): LinkStats[] {
    const t = this.now();
    return [...this.peers.values()]
      .sort((a, b) => a.peer - b.peer)
      .map((c) => ({
        peer: c.peer,
        bytesSent: c.bytesSent,
        bytesReceived: c.bytesReceived,
        messagesSent: c.messagesSent,
        messagesReceived: c.messagesReceived,
        sendMs: c.sendMs + (c.inFlight > 0 ? t - c.busySince : 0),
      }));
  }

  /** What changed since the previous take, for peers with any traffic in between. */
  take(): LinkStats[] {
    const out: LinkStats[] = [];
    for (const now of this.totals()) {
      const before = this.taken.get(now.peer) ?? { peer: now.peer, ...ZERO };
      this.taken.set(now.peer, now);
      const d: LinkStats = {
        peer: now.peer,
        bytesSent: now.bytesSent - before.bytesSent,
        bytesReceived: now.bytesReceived - before.bytesReceived,
        messagesSent: now.messagesSent - before.messagesSent,
        messagesReceived: now.messagesReceived - before.messagesReceived,
        sendMs: now.sendMs - before.sendMs,
      };
      if (d.messagesSent || d.messagesReceived || d.sendMs) out.push(d);
    }
    return out;
  }
}
