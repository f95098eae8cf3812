// The Transport over WebRTC data channels, with PeerJS for signalling (its server half,
// `peer`, runs in the coordinator). Main thread only: browsers have no RTCPeerConnection
// in workers. Rank r registers as PeerJS id `${runId}-${r}`; between two ranks the lower
// one dials `channels` connections (each its own RTCPeerConnection and SCTP association).

import { type DataConnection, Peer } from 'peerjs';
import { Inbound } from './inbound';
import { LinkMeter } from './link-meter';
import { rtcConfig } from './ice';
import { Mailbox } from './mailbox';
import { ChannelSender, type DataChannelLike, type PacingOptions } from './outbound';
import { PeerHealth } from './peer-health';
import {
  bytesOf,
  checkRank,
  CommError,
  DEFAULT_TIMEOUT_MS,
  type PeerLostListener,
  type RecvOptions,
  type SendOptions,
  type Tag,
  type Transport,
} from './transport';
import { parseNotice, planParts, type LostNotice, type PartHeader } from './wire';

export interface SignallingServer {
  host: string;
  port: number;
  /** where the PeerJS server is mounted, e.g. '/peerjs' */
  path?: string;
  secure?: boolean;
  key?: string;
}

export interface PeerTransportOptions extends Partial<PacingOptions> {
  rank: number;
  worldSize: number;
  runId: string;
  /** the run's membership generation: ids and connections of other generations never mix */
  generation?: number;
  server: SignallingServer;
  /** STUN/TURN servers; empty (the default) uses host candidates only */
  iceServers?: RTCIceServer[];
  /** data connections per peer (default 1) */
  channels?: number;
  /** ranks to connect to (default: every other rank); both ends must list each other */
  peers?: number[];
  connectTimeoutMs?: number;
  /** a peer whose ICE stays 'disconnected' this long is declared lost (ms) */
  disconnectGraceMs?: number;
  /** abandons connecting (e.g. the run moved on to another generation meanwhile) */
  signal?: AbortSignal;
}

interface Link {
  readonly peer: number;
  readonly mailbox: Mailbox;
  readonly inbound: Inbound;
  readonly conns: Array<DataConnection | undefined>;
  readonly senders: Array<ChannelSender | undefined>;
  nextId: number;
}

const DEFAULT_PACING: PacingOptions = { chunkBytes: 256 * 1024, highWaterBytes: 8 << 20, lowWaterBytes: 1 << 20 };

export class PeerTransport implements Transport {
  readonly rank: number;
  readonly worldSize: number;
  readonly channels: number;
  private readonly health: PeerHealth;
  private readonly links = new Map<number, Link>();
  private pacing: PacingOptions;
  private closed = false;
  readonly meter = new LinkMeter();

  private constructor(
    private readonly peerjs: Peer,
    private readonly opts: PeerTransportOptions,
  ) {
    this.rank = opts.rank;
    this.worldSize = opts.worldSize;
    this.channels = opts.channels ?? 1;
    this.health = new PeerHealth(opts.rank);
    this.pacing = { ...DEFAULT_PACING, ...definedOnly(opts) };
  }

  /** Registers with the signalling server and opens every channel to every peer. */
  static async connect(opts: PeerTransportOptions): Promise<PeerTransport> {
    const { rank, worldSize, runId } = opts;
    if (!Number.isInteger(worldSize) || worldSize < 1)
      throw new Error(`worldSize must be a positive integer, got ${worldSize}`);
    if (!Number.isInteger(rank) || rank < 0 || rank >= worldSize)
      throw new Error(`rank ${rank} is outside 0…${worldSize - 1}`);
    const peerjs = new Peer(peerId(runId, rank, opts.generation), {
      host: opts.server.host,
      port: opts.server.port,
      path: opts.server.path ?? '/',
      secure: opts.server.secure ?? false,
      key: opts.server.key,
      config: rtcConfig(opts.iceServers),
      debug: 1,
    });
    const t = new PeerTransport(peerjs, opts);
    globalThis.addEventListener?.('pagehide', t.onPageHide);
    const abandoned = new Promise<never>((_, reject) => {
      const why = () => reject(new Error(`rank ${rank}: connecting was abandoned`));
      if (opts.signal?.aborted) why();
      opts.signal?.addEventListener('abort', why, { once: true });
    });
    abandoned.catch(() => {});
    try {
      await Promise.race([t.register().then(() => t.openLinks()), abandoned]);
    } catch (e) {
      t.close();
      throw e;
    }
    return t;
  }

  async send(to: number, tag: Tag, data: ArrayBufferView, opts: SendOptions = {}): Promise<void> {
    const op = opts.op ?? 'send';
    const link = this.linkTo(to, op);
    const bytes = bytesOf(data);
    const id = link.nextId++;
    const parts = planParts(bytes.byteLength, this.channels, this.pacing.chunkBytes, id % this.channels);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const sent = this.meter.sending(to, bytes.byteLength);
    try {
      await Promise.all(
        parts.map((p) => {
          const header: PartHeader = { k: 'part', i: id, g: tag, n: bytes.byteLength, o: p.offset, l: p.length };
          return link.senders[p.channel]!.enqueue(
            JSON.stringify(header),
            bytes.subarray(p.offset, p.offset + p.length),
            timeoutMs,
          );
        }),
      );
    } catch (reason) {
      const lost = this.health.get(to);
      throw new CommError(
        op,
        this.rank,
        to,
        lost ? lost.reason : `sending '${tag}' (${bytes.byteLength} B): ${String(reason)}`,
      );
    } finally {
      sent();
    }
  }

  recv(from: number, tag: Tag, opts: RecvOptions = {}): Promise<Uint8Array> {
    return this.linkTo(from, opts.op ?? 'recv').mailbox.take(tag, opts);
  }

  onPeerLost(listener: PeerLostListener): () => void {
    return this.health.subscribe(listener);
  }

  lostPeer(rank: number): CommError | undefined {
    return this.health.get(rank);
  }

  /** For news from outside WebRTC (e.g. the coordinator saw the tab's socket close, which
   *  is faster than ICE noticing): fails everything with `rank` now. */
  declareLost(rank: number, reason: string): void {
    this.lose(rank, reason);
  }

  /** The largest message this transport puts on a channel. */
  get chunkBytes(): number {
    return this.pacing.chunkBytes;
  }

  /** Tells the peers this rank is leaving (so they fail fast), then closes everything. */
  close(): void {
    if (this.closed) return;
    this.notifyPeers({ k: 'lost', r: this.rank, why: `rank ${this.rank} closed its transport` });
    this.closed = true;
    globalThis.removeEventListener?.('pagehide', this.onPageHide);
    for (const link of this.links.values()) {
      link.mailbox.fail('this transport is closed');
      link.inbound.fail('this transport is closed');
      for (const s of link.senders) s?.fail('this transport is closed');
      for (const c of link.conns) c?.close();
    }
    this.peerjs.destroy();
  }

  private readonly onPageHide = (): void => this.close();

  private notifyPeers(notice: LostNotice, except: number[] = []): void {
    const text = JSON.stringify(notice);
    for (const other of this.links.values()) {
      if (except.includes(other.peer) || this.health.get(other.peer)) continue;
      const dc = other.conns[0]?.dataChannel;
      if (dc?.readyState === 'open') dc.send(text);
    }
  }

  private linkTo(peer: number, op: string): Link {
    checkRank(this, peer, op);
    if (this.closed) throw new CommError(op, this.rank, peer, 'this transport is closed');
    const lost = this.health.get(peer);
    if (lost) throw new CommError(op, this.rank, peer, lost.reason);
    const link = this.links.get(peer);
    if (!link) throw new CommError(op, this.rank, peer, 'not connected (the rank is not in this transport’s peers)');
    return link;
  }

  private register(): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `rank ${this.rank}: signalling server ${describeServer(this.opts.server)} did not answer in ${this.connectTimeout} ms`,
            ),
          ),
        this.connectTimeout,
      );
      this.peerjs.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      this.peerjs.once('error', (e) => {
        clearTimeout(timer);
        reject(
          new Error(
            `rank ${this.rank}: signalling server ${describeServer(this.opts.server)}: ${e.type}: ${e.message}`,
          ),
        );
      });
    });
  }

  private get connectTimeout(): number {
    return this.opts.connectTimeoutMs ?? 30_000;
  }

  private openLinks(): Promise<void> {
    const peers = (this.opts.peers ?? range(this.worldSize)).filter((p) => p !== this.rank);
    for (const p of peers) checkRank(this, p, 'connect');
    for (const p of peers) {
      const mailbox = new Mailbox(this.rank, p);
      const link: Link = {
        peer: p,
        mailbox,
        inbound: new Inbound(
          mailbox,
          (reason) => this.lose(p, `protocol error: ${reason}`),
          (bytes, firstAt, firstBytes) => this.meter.received(p, bytes, firstAt, firstBytes),
        ),
        conns: [],
        senders: [],
        nextId: 0,
      };
      this.links.set(p, link);
    }
    return new Promise<void>((resolve, reject) => {
      let missing = peers.length * this.channels;
      if (missing === 0) return resolve();
      const timer = setTimeout(() => {
        const absent = peers.filter((p) => this.links.get(p)!.senders.filter(Boolean).length < this.channels);
        reject(
          new Error(
            `rank ${this.rank}: no WebRTC connection to rank(s) ${absent.join(', ')} after ${this.connectTimeout} ms`,
          ),
        );
      }, this.connectTimeout);
      const opened = (): void => {
        if (--missing === 0) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.peerjs.on('connection', (conn) => {
        const meta = conn.metadata as
          | { runId?: string; generation?: number; rank?: number; channel?: number }
          | undefined;
        const link = meta?.rank !== undefined ? this.links.get(meta.rank) : undefined;
        if (
          !meta ||
          meta.runId !== this.opts.runId ||
          (meta.generation ?? 0) !== (this.opts.generation ?? 0) ||
          !link ||
          !Number.isInteger(meta.channel) ||
          meta.channel! >= this.channels ||
          link.conns[meta.channel!]
        ) {
          console.warn(`rank ${this.rank}: refusing unexpected connection from ${conn.peer} (${JSON.stringify(meta)})`);
          conn.close();
          return;
        }
        this.adopt(link, meta.channel!, conn, opened);
      });
      this.peerjs.on('error', (e) => {
        if (e.type !== 'peer-unavailable')
          return console.warn(`rank ${this.rank}: PeerJS error ${e.type}: ${e.message}`);
        // the peer has not registered yet: dial it again shortly
        for (const link of this.links.values()) {
          if (!e.message.includes(peerId(this.opts.runId, link.peer, this.opts.generation)) || link.peer < this.rank)
            continue;
          link.conns.forEach((c, ch) => {
            if (c && !c.open) setTimeout(() => !this.closed && this.dial(link, ch, opened), 300);
          });
        }
      });
      for (const p of peers)
        if (this.rank < p) for (let ch = 0; ch < this.channels; ch++) this.dial(this.links.get(p)!, ch, opened);
    });
  }

  private dial(link: Link, channel: number, opened: () => void): void {
    link.conns[channel]?.removeAllListeners();
    const conn = this.peerjs.connect(peerId(this.opts.runId, link.peer, this.opts.generation), {
      reliable: true, // ordered: a part's header and bytes must arrive in order
      serialization: 'raw',
      metadata: { runId: this.opts.runId, generation: this.opts.generation ?? 0, rank: this.rank, channel },
    });
    this.adopt(link, channel, conn, opened);
  }

  private adopt(link: Link, channel: number, conn: DataConnection, opened: () => void): void {
    link.conns[channel] = conn;
    const p = link.peer;
    let disconnectTimer: ReturnType<typeof setTimeout> | undefined;
    conn.on('open', () => {
      const dc = conn.dataChannel as unknown as DataChannelLike;
      const max = conn.peerConnection.sctp?.maxMessageSize;
      if (max && max < this.pacing.chunkBytes) this.pacing = { ...this.pacing, chunkBytes: max };
      link.senders[channel] = new ChannelSender(dc, this.pacing);
      opened();
    });
    conn.on('data', (d) => {
      if (typeof d === 'string') {
        const m = parseNotice(d);
        if (typeof m === 'string') return this.lose(p, `protocol error: ${m}`);
        if (m.k === 'part') return link.inbound.header(channel, m);
        return this.lose(m.r, m.r === p ? m.why : `rank ${p} reports: ${m.why}`, p);
      }
      if (d instanceof ArrayBuffer) return link.inbound.binary(channel, d);
      this.lose(p, `protocol error: unexpected ${Object.prototype.toString.call(d)} message`);
    });
    conn.on('close', () => this.lose(p, `data channel ${channel} closed`));
    conn.on('error', (e) => this.lose(p, `data channel ${channel}: ${e.message}`));
    conn.on('iceStateChanged', (state) => {
      clearTimeout(disconnectTimer);
      if (state === 'failed' || state === 'closed') this.lose(p, `ICE ${state} on channel ${channel}`);
      if (state === 'disconnected') {
        const grace = this.opts.disconnectGraceMs ?? 3_000;
        disconnectTimer = setTimeout(
          () => this.lose(p, `ICE disconnected for ${grace} ms on channel ${channel}`),
          grace,
        );
      }
    });
  }

  /** Declares `peer` lost: fails everything with it and tells the other peers. */
  private lose(peer: number, reason: string, from?: number): void {
    if (this.closed || peer === this.rank || !this.health.markLost(peer, reason)) return;
    const link = this.links.get(peer);
    if (link) {
      link.mailbox.fail(`peer lost: ${reason}`);
      link.inbound.fail(`peer lost: ${reason}`);
      for (const s of link.senders) s?.fail(`peer lost: ${reason}`);
      for (const c of link.conns) c?.close();
    }
    this.notifyPeers({ k: 'lost', r: peer, why: reason }, from === undefined ? [peer] : [peer, from]);
  }
}

/** The PeerJS id of `rank` in a run (and generation: a rank's holder changes between them). */
export function peerId(runId: string, rank: number, generation = 0): string {
  return generation > 0 ? `${runId}-g${generation}-${rank}` : `${runId}-${rank}`;
}

function describeServer(s: SignallingServer): string {
  return `${s.secure ? 'https' : 'http'}://${s.host}:${s.port}${s.path ?? '/'}`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function definedOnly(o: Partial<PacingOptions>): Partial<PacingOptions> {
  const out: Partial<PacingOptions> = {};
  if (o.chunkBytes !== undefined) out.chunkBytes = o.chunkBytes;
  if (o.highWaterBytes !== undefined) out.highWaterBytes = o.highWaterBytes;
  if (o.lowWaterBytes !== undefined) out.lowWaterBytes = o.lowWaterBytes;
  return out;
}
