// Matches incoming messages from one peer to receives, by tag, in send order.
// Shared by every transport: a transport announces each message (in the order the peer
// sent them) as soon as it knows the tag and size; the bytes may still be arriving.

import { CommError, DEFAULT_TIMEOUT_MS, type RecvOptions, type Tag } from './transport';

export interface Incoming {
  readonly tag: Tag;
  readonly bytes: number;
  /** resolves with the whole message (a buffer of its own) or rejects if the peer fails */
  readonly data: Promise<Uint8Array>;
  /** bytes arrived so far (drives the stall timeout) */
  received(): number;
}

type Rejecter = (reason: string) => void;

export class Mailbox {
  private readonly queued = new Map<Tag, Incoming[]>();
  private readonly waiting = new Map<Tag, Array<(m: Incoming) => void>>();
  private readonly pending = new Set<Rejecter>();
  private failure?: string;

  constructor(
    readonly rank: number,
    readonly peer: number,
  ) {}

  get failed(): string | undefined {
    return this.failure;
  }

  announce(m: Incoming): void {
    if (this.failure) return;
    const waiters = this.waiting.get(m.tag);
    const first = waiters?.shift();
    if (waiters && waiters.length === 0) this.waiting.delete(m.tag);
    if (first) return first(m);
    const q = this.queued.get(m.tag);
    if (q) q.push(m);
    else this.queued.set(m.tag, [m]);
  }

  /** Fails every pending and future receive from this peer. */
  fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    for (const reject of [...this.pending]) reject(reason);
    this.queued.clear();
    this.waiting.clear();
  }

  take(tag: Tag, opts: RecvOptions = {}): Promise<Uint8Array> {
    const op = opts.op ?? 'recv';
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<Uint8Array>((resolve, reject) => {
      let msg: Incoming | undefined;
      let done = false;
      let lastProgress = 0;
      let lastChange = Date.now();
      const finish = (): void => {
        done = true;
        clearInterval(watchdog);
        this.pending.delete(fail);
        const w = this.waiting.get(tag);
        if (w) {
          const i = w.indexOf(got);
          if (i >= 0) w.splice(i, 1);
          if (w.length === 0) this.waiting.delete(tag);
        }
      };
      const fail: Rejecter = (reason) => {
        if (done) return;
        finish();
        reject(new CommError(op, this.rank, this.peer, reason));
      };
      const got = (m: Incoming): void => {
        msg = m;
        if (opts.bytes !== undefined && m.bytes !== opts.bytes) {
          return fail(`message '${tag}' has ${m.bytes} bytes, expected ${opts.bytes}`);
        }
        m.data.then(
          (d) => {
            if (done) return;
            finish();
            resolve(d);
          },
          (e: unknown) => fail(e instanceof CommError ? e.reason : e instanceof Error ? e.message : String(e)),
        );
      };
      const watchdog = setInterval(
        () => {
          const progress = msg ? 1 + msg.received() : 0;
          if (progress !== lastProgress) {
            lastProgress = progress;
            lastChange = Date.now();
          } else if (Date.now() - lastChange >= timeoutMs) {
            const what = msg
              ? `stalled at ${msg.received()} of ${msg.bytes} bytes of '${tag}'`
              : `nothing arrived for '${tag}'`;
            fail(`timed out after ${timeoutMs} ms: ${what}${this.describeQueued()}`);
          }
        },
        Math.max(20, Math.min(1000, timeoutMs / 4)),
      );
      this.pending.add(fail);
      if (this.failure) return fail(this.failure);
      const q = this.queued.get(tag);
      const m = q?.shift();
      if (q && q.length === 0) this.queued.delete(tag);
      if (m) return got(m);
      const w = this.waiting.get(tag);
      if (w) w.push(got);
      else this.waiting.set(tag, [got]);
    });
  }

  private describeQueued(): string {
    const tags = [...this.queued].flatMap(([t, q]) => q.map((m) => `'${t}' (${m.bytes} B)`));
    return tags.length ? `; unclaimed messages from this peer: ${tags.slice(0, 8).join(', ')}` : '';
  }
}
