// In-memory transport: N ranks in one process (unit tests of everything above the
// transport). Messages are copied on send, as a network would, and delivered on a
// later microtask; `disconnect(rank)` simulates a tab that goes away.

import { MailboxTransport } from './mailbox-transport';
import { bytesOf, type SendOptions, type Tag, type Transport } from './transport';

export interface LoopbackWorld {
  readonly transports: LoopbackTransport[];
  /** Makes `rank` vanish: its peers' pending and future operations with it fail. */
  disconnect(rank: number): void;
}

export function createLoopbackWorld(size: number): LoopbackWorld {
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`loopback world size must be a positive integer, got ${size}`);
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

export class LoopbackTransport extends MailboxTransport implements Transport {
  constructor(
    rank: number,
    worldSize: number,
    private readonly world: readonly LoopbackTransport[],
  ) {
    super(rank, worldSize);
  }

  async send(to: number, tag: Tag, data: ArrayBufferView, opts: SendOptions = {}): Promise<void> {
    const op = opts.op ?? 'send';
    this.checkSend(to, op);
    const copy = bytesOf(data).slice();
    const sent = this.meter.sending(to, copy.byteLength);
    await Promise.resolve();
    sent();
    const target = this.world[to];
    target.meter.received(this.rank, copy.byteLength);
    target.inbox[this.rank].announce({
      tag,
      bytes: copy.byteLength,
      data: Promise.resolve(copy),
      received: () => copy.byteLength,
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.world) if (t !== this) t.peerGone(this.rank, 'peer closed its transport');
    for (const m of this.inbox) m.fail('this transport is closed');
  }
}
