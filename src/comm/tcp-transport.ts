// The Transport over TCP between Node processes (node:net): ranks as separate processes on
// one machine or several, e.g. each with its own GPU for benchmarks. Rank r listens on
// `ports[r]` of `hosts[r]`; between two ranks the higher one dials the lower one and says
// its rank first (u32). Frames: u32 tag length, the tag (UTF-8), u32 byte length, the bytes.
// Node only; the browser's Transport is peerjs-transport.ts.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { MailboxTransport } from './mailbox-transport';
import { bytesOf, CommError, type SendOptions, type Tag, type Transport } from './transport';

export interface TcpTransportOptions {
  rank: number;
  worldSize: number;
  /** the port each rank listens on (index = rank) */
  ports: number[];
  /** each rank's host (default 127.0.0.1 for all) */
  hosts?: string[];
  connectTimeoutMs?: number;
  /** one-way delay added to every message this rank receives (ms): emulated latency, for
   *  shaped-link benchmarks on kernels without netem (default 0) */
  latencyMs?: number;
}

/** Reads frames from a byte stream; calls `onFrame` once per whole frame, with when the
 *  frame's first bytes arrived and how many came then (for the link meter). */
class FrameReader {
  private chunks: Buffer[] = [];
  private have = 0;
  private firstAt = 0;
  private firstBytes = 0;

  constructor(private readonly onFrame: (tag: string, data: Uint8Array, firstAt: number, firstBytes: number) => void) {}

  push(chunk: Buffer): void {
    if (this.have === 0) [this.firstAt, this.firstBytes] = [performance.now(), chunk.length];
    this.chunks.push(chunk);
    this.have += chunk.length;
    for (;;) {
      if (this.have < 4) return;
      const head = this.peek(4);
      const tagLen = head.readUInt32LE(0);
      if (this.have < 8 + tagLen) return;
      const len = this.peek(8 + tagLen).readUInt32LE(4 + tagLen);
      if (this.have < 8 + tagLen + len) return;
      const frame = this.take(8 + tagLen + len);
      const tag = frame.toString('utf8', 4, 4 + tagLen);
      this.onFrame(
        tag,
        new Uint8Array(frame.buffer.slice(frame.byteOffset + 8 + tagLen, frame.byteOffset + 8 + tagLen + len)),
        this.firstAt,
        Math.min(len, Math.max(0, this.firstBytes - 8 - tagLen)),
      );
      // what is left began arriving with the chunk that completed this frame
      [this.firstAt, this.firstBytes] = [performance.now(), this.have];
    }
  }

  private peek(n: number): Buffer {
    if (this.chunks[0].length < n) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0];
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.have -= n;
    return out;
  }
}

export class TcpTransport extends MailboxTransport implements Transport {
  private readonly sockets = new Map<number, Socket>();
  private readonly latencyMs: number;

  private constructor(
    private readonly server: Server,
    opts: TcpTransportOptions,
  ) {
    super(opts.rank, opts.worldSize);
    this.latencyMs = opts.latencyMs ?? 0;
  }

  /** Listens, dials every lower rank, and resolves once connected to every other rank. */
  static async connect(opts: TcpTransportOptions): Promise<TcpTransport> {
    const { rank, worldSize, ports } = opts;
    if (ports.length !== worldSize) throw new Error(`tcp transport: ${ports.length} ports for a world of ${worldSize}`);
    const host = (r: number) => opts.hosts?.[r] ?? '127.0.0.1';
    const timeoutMs = opts.connectTimeoutMs ?? 30_000;
    const server = createServer();
    const t = new TcpTransport(server, opts);
    const connected = new Map<number, () => void>();
    const all = Promise.all(
      Array.from({ length: worldSize }, (_, r) => r)
        .filter((r) => r !== rank)
        .map((r) => new Promise<void>((res) => connected.set(r, res))),
    );
    server.on('connection', (sock) => {
      sock.setNoDelay(true);
      let hello = Buffer.alloc(0);
      const first = (chunk: Buffer) => {
        hello = Buffer.concat([hello, chunk]);
        if (hello.length < 4) return;
        sock.off('data', first);
        const peer = hello.readUInt32LE(0);
        t.attach(peer, sock, hello.subarray(4));
        connected.get(peer)?.();
      };
      sock.on('data', first);
    });
    await new Promise<void>((res, rej) => server.once('error', rej).listen(ports[rank], host(rank), () => res()));
    const dial = (peer: number, deadline: number): Promise<void> =>
      new Promise((res, rej) => {
        const sock = createConnection({ port: ports[peer], host: host(peer) });
        sock.once('connect', () => {
          sock.setNoDelay(true);
          const hello = Buffer.alloc(4);
          hello.writeUInt32LE(rank, 0);
          sock.write(hello);
          t.attach(peer, sock, Buffer.alloc(0));
          res();
        });
        sock.once('error', (e) => {
          sock.destroy();
          if (Date.now() > deadline)
            return rej(
              new CommError(
                'connect',
                rank,
                peer,
                `no connection to ${host(peer)}:${ports[peer]} within ${timeoutMs} ms (${e.message})`,
              ),
            );
          setTimeout(() => dial(peer, deadline).then(res, rej), 50);
        });
      });
    const deadline = Date.now() + timeoutMs;
    await Promise.all(Array.from({ length: rank }, (_, p) => dial(p, deadline).then(() => connected.get(p)?.())));
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      all,
      new Promise((_, rej) => {
        timer = setTimeout(
          () => rej(new Error(`tcp transport rank ${rank}: not every rank connected within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    return t;
  }

  private attach(peer: number, sock: Socket, rest: Buffer): void {
    this.sockets.set(peer, sock);
    const reader = new FrameReader((tag, data, firstAt, firstBytes) => {
      this.meter.received(peer, data.byteLength, firstAt, firstBytes);
      const announce = () =>
        this.inbox[peer].announce({
          tag,
          bytes: data.byteLength,
          data: Promise.resolve(data),
          received: () => data.byteLength,
        });
      // equal delays keep the order: timers of one duration fire in the order they were set
      if (this.latencyMs > 0) setTimeout(announce, this.latencyMs);
      else announce();
    });
    if (rest.length) reader.push(rest);
    sock.on('data', (c: Buffer) => reader.push(c));
    const gone = (why: string) => this.peerGone(peer, why);
    sock.on('close', () => gone('connection closed'));
    sock.on('error', (e) => gone(e.message));
  }

  async send(to: number, tag: Tag, data: ArrayBufferView, opts: SendOptions = {}): Promise<void> {
    const op = opts.op ?? 'send';
    this.checkSend(to, op);
    const sock = this.sockets.get(to);
    if (!sock) throw new CommError(op, this.rank, to, 'not connected');
    const tagBytes = Buffer.from(tag, 'utf8');
    const head = Buffer.alloc(8 + tagBytes.length);
    head.writeUInt32LE(tagBytes.length, 0);
    tagBytes.copy(head, 4);
    const body = bytesOf(data);
    head.writeUInt32LE(body.byteLength, 4 + tagBytes.length);
    const sent = this.meter.sending(to, body.byteLength);
    sock.write(head);
    const flushed = sock.write(Buffer.from(body.slice())); // a copy: the caller may reuse `data` once this resolves
    if (!flushed) await new Promise<void>((res) => sock.once('drain', () => res()));
    sent();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets.values()) s.destroy();
    for (const m of this.inbox) m.fail('this transport is closed');
    this.server.close();
  }
}
