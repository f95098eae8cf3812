// Receiving side of one peer: turns part headers and binary messages from its channels
// back into whole transfers, and announces them to the mailbox in the peer's send order.
// Transfer ids are dense, so transfer i is announced only once ids 0…i-1 are known:
// with several channels a later transfer can never overtake an earlier one of its tag.

import type { Mailbox } from './mailbox';
import type { PartHeader } from './wire';

interface Transfer {
  readonly id: number;
  readonly tag: string;
  readonly total: number;
  buf?: Uint8Array;
  received: number;
  announced: boolean;
  /** when the first bytes came and how many (for the link meter); completed: reported */
  firstAt?: number;
  firstBytes: number;
  completed: boolean;
  readonly data: Promise<Uint8Array>;
  resolve(d: Uint8Array): void;
  reject(e: Error): void;
}

interface OpenPart {
  readonly t: Transfer;
  at: number;
  readonly end: number;
}

export class Inbound {
  /** transfers not yet both complete and announced */
  private readonly live = new Map<number, Transfer>();
  private nextToAnnounce = 0;
  private readonly open: Array<OpenPart | undefined> = [];
  private failure?: string;

  /** `protocolError` is called when the peer breaks the wire protocol (the link is then unusable);
   *  `completed` once per whole transfer, with when its first bytes arrived and how many. */
  constructor(
    private readonly mailbox: Mailbox,
    private readonly protocolError: (reason: string) => void,
    private readonly completed?: (bytes: number, firstAt: number, firstBytes: number) => void,
  ) {}

  header(channel: number, h: PartHeader): void {
    if (this.failure) return;
    if (this.open[channel]) {
      const p = this.open[channel];
      return this.protocolError(
        `part of transfer ${h.i} began on channel ${channel} while transfer ${p.t.id} still had ${p.end - p.at} bytes to come`,
      );
    }
    let t = this.live.get(h.i);
    if (!t) {
      if (h.i < this.nextToAnnounce) return this.protocolError(`part header for finished transfer ${h.i}`);
      t = this.create(h);
    } else if (t.tag !== h.g || t.total !== h.n) {
      return this.protocolError(`transfer ${h.i} announced as '${t.tag}' (${t.total} B) and as '${h.g}' (${h.n} B)`);
    }
    if (h.l > 0) this.open[channel] = { t, at: h.o, end: h.o + h.l };
    this.announceReady();
    this.maybeComplete(t);
  }

  binary(channel: number, data: ArrayBuffer): void {
    if (this.failure) return;
    const p = this.open[channel];
    if (!p) return this.protocolError(`${data.byteLength} bytes arrived on channel ${channel} outside any transfer`);
    if (data.byteLength > p.end - p.at) {
      return this.protocolError(
        `transfer ${p.t.id} ('${p.t.tag}') got ${data.byteLength} bytes where ${p.end - p.at} remained in its part`,
      );
    }
    const t = p.t;
    if (t.firstAt === undefined) [t.firstAt, t.firstBytes] = [performance.now(), data.byteLength];
    if (!t.buf && p.at === 0 && data.byteLength === t.total)
      t.buf = new Uint8Array(data); // one message: keep it, no copy
    else (t.buf ??= new Uint8Array(t.total)).set(new Uint8Array(data), p.at);
    p.at += data.byteLength;
    t.received += data.byteLength;
    if (p.at === p.end) this.open[channel] = undefined;
    this.maybeComplete(t);
  }

  fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    for (const t of this.live.values()) t.reject(new Error(reason));
    this.live.clear();
  }

  private create(h: PartHeader): Transfer {
    let resolve!: (d: Uint8Array) => void;
    let reject!: (e: Error) => void;
    const data = new Promise<Uint8Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    data.catch(() => {}); // a transfer nobody received yet may fail with its peer
    const t: Transfer = {
      id: h.i,
      tag: h.g,
      total: h.n,
      received: 0,
      announced: false,
      firstBytes: 0,
      completed: false,
      data,
      resolve,
      reject,
    };
    this.live.set(h.i, t);
    return t;
  }

  private announceReady(): void {
    for (let t = this.live.get(this.nextToAnnounce); t && !t.announced; t = this.live.get(this.nextToAnnounce)) {
      t.announced = true;
      this.nextToAnnounce++;
      const tr = t;
      this.mailbox.announce({ tag: tr.tag, bytes: tr.total, data: tr.data, received: () => tr.received });
      this.maybeComplete(tr);
    }
  }

  private maybeComplete(t: Transfer): void {
    if (t.received < t.total) return;
    t.resolve(t.buf ?? new Uint8Array(0));
    if (!t.completed) {
      t.completed = true;
      this.completed?.(t.total, t.firstAt ?? performance.now(), t.firstAt === undefined ? t.total : t.firstBytes);
    }
    if (t.announced) this.live.delete(t.id);
  }
}
