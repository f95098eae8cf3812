// Per-peer traffic accounting for a transport: message bytes (payload, not framing) sent and
// received, and the link's throughput as the receiver saw it.
//
// Throughput is measured where it can be: at the receiver. A message's bytes arrive in pieces
// (socket reads, data-channel chunks) from its first piece to its last; the link delivered the
// bytes after the first piece in that time. Summed over messages (overlapping arrivals from one
// peer count their union once) this gives `timedBytesReceived / receiveMs`. A message that
// arrives in one piece adds bytes but no time. The sender cannot measure it: a send completes
// once the bytes are in the socket's or data channel's buffer (megabytes), long before they
// cross a slow link; `sendMs` (time with a send to the peer in progress) is kept for what it is.
// `take()` returns what happened since the previous take (a step's worth); `totals()` everything.

export interface LinkStats {
  peer: number;
  bytesSent: number;
  bytesReceived: number;
  messagesSent: number;
  messagesReceived: number;
  /** ms with at least one send to this peer in progress (until the transport accepted the bytes) */
  sendMs: number;
  /** bytes received from this peer after the first piece of their message, and the ms they took */
  timedBytesReceived: number;
  receiveMs: number;
}

interface PeerCounters extends LinkStats {
  inFlight: number;
  busySince: number;
  /** end of the latest receive interval counted */
  receivedUntil: number;
}

const ZERO = {
  bytesSent: 0,
  bytesReceived: 0,
  messagesSent: 0,
  messagesReceived: 0,
  sendMs: 0,
  timedBytesReceived: 0,
  receiveMs: 0,
};

type Counts = Omit<LinkStats, 'peer'>;
const KEYS = Object.keys(ZERO) as Array<keyof Counts>;

/** Throughput from a peer as its receiver measured it (bytes/s), or null without a timed message. */
export function receiveRate(s: LinkStats): number | null {
  return s.receiveMs > 0 ? s.timedBytesReceived / (s.receiveMs / 1000) : null;
}

export class LinkMeter {
  private readonly peers = new Map<number, PeerCounters>();
  private readonly taken = new Map<number, LinkStats>();

  constructor(readonly now: () => number = () => performance.now()) {}

  private of(peer: number): PeerCounters {
    let c = this.peers.get(peer);
    if (!c) this.peers.set(peer, (c = { peer, ...ZERO, inFlight: 0, busySince: 0, receivedUntil: -Infinity }));
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

  /** A whole message of `bytes` from `peer` has arrived (now); its first piece, of `firstBytes`
   *  bytes, arrived at `firstAt` (a message that came in one piece: firstAt = now, firstBytes = bytes). */
  received(peer: number, bytes: number, firstAt = this.now(), firstBytes = bytes): void {
    const c = this.of(peer);
    const end = this.now();
    c.bytesReceived += bytes;
    c.messagesReceived++;
    const from = Math.max(firstAt, c.receivedUntil);
    if (bytes > firstBytes && end > firstAt) {
      c.timedBytesReceived += bytes - firstBytes;
      c.receiveMs += Math.max(0, end - from);
    }
    c.receivedUntil = Math.max(c.receivedUntil, end);
  }

  /** Counters since this meter was made, send time up to now; peers in rank order. */
  totals(): LinkStats[] {
    const t = this.now();
    return [...this.peers.values()]
      .sort((a, b) => a.peer - b.peer)
      .map((c) => {
        const out = { peer: c.peer } as LinkStats;
        for (const k of KEYS) out[k] = c[k];
        if (c.inFlight > 0) out.sendMs += t - c.busySince;
        return out;
      });
  }

  /** What changed since the previous take, for peers with any traffic in between. */
  take(): LinkStats[] {
    const out: LinkStats[] = [];
    for (const now of this.totals()) {
      const before = this.taken.get(now.peer) ?? { peer: now.peer, ...ZERO };
      this.taken.set(now.peer, now);
      const d = { peer: now.peer } as LinkStats;
      for (const k of KEYS) d[k] = now[k] - before[k];
      if (d.messagesSent || d.messagesReceived || d.sendMs) out.push(d);
    }
    return out;
  }
}
