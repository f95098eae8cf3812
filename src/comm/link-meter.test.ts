// LinkMeter's arithmetic on a clock the test moves, then the real transports counting real
// traffic: a compressed ring's bytes on loopback and TCP must be exactly what the plan says.
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../node/free-ports';
import { compressedAllReduce, ringBytesSent, transportP2P } from './compress/compressed-ring';
import { int8Codec } from './compress/wire-codec';
import { LinkMeter } from './link-meter';
import { createLoopbackWorld } from './loopback';
import { TcpTransport } from './tcp-transport';
import type { Transport } from './transport';

describe('LinkMeter', () => {
  it('counts bytes per peer and the union of overlapping send intervals', () => {
    let t = 0;
    const m = new LinkMeter(() => t);
    const a = m.sending(1, 100); // [0, 10)
    t = 4;
    const b = m.sending(1, 50); // [4, 20): the union with the first is [0, 20)
    const c = m.sending(2, 7);
    t = 10;
    a();
    a(); // a second call changes nothing
    m.received(1, 30);
    t = 20;
    b();
    t = 25;
    c();
    expect(m.totals()).toEqual([
      { peer: 1, bytesSent: 150, bytesReceived: 30, messagesSent: 2, messagesReceived: 1, sendMs: 20 },
      { peer: 2, bytesSent: 7, bytesReceived: 0, messagesSent: 1, messagesReceived: 0, sendMs: 21 },
    ]);
  });

  it('take() returns what happened since the last take, busy time included up to now', () => {
    let t = 0;
    const m = new LinkMeter(() => t);
    const done = m.sending(3, 1000);
    t = 5;
    expect(m.take()).toEqual([
      { peer: 3, bytesSent: 1000, bytesReceived: 0, messagesSent: 1, messagesReceived: 0, sendMs: 5 },
    ]);
    t = 8;
    done();
    m.received(3, 10, 0);
    expect(m.take()).toEqual([
      { peer: 3, bytesSent: 0, bytesReceived: 10, messagesSent: 0, messagesReceived: 0, sendMs: 3 },
    ]);
    expect(m.take()).toEqual([]);
  });
});

describe('transports count their traffic', () => {
  let open: Transport[] = [];
  afterEach(() => {
    for (const t of open) t.close();
    open = [];
  });

  async function ring(transports: Transport[]): Promise<void> {
    const ranks = transports.map((t) => t.rank);
    const codec = int8Codec(64);
    await Promise.all(
      transports.map((t) =>
        compressedAllReduce(transportP2P(t, 10_000), ranks, new Float32Array(5000).fill(t.rank), { codec, tag: 'm' }),
      ),
    );
    const n = transports.length;
    for (const t of transports) {
      const stats = t.meter!.totals();
      const sent = stats.reduce((a, s) => a + s.bytesSent, 0);
      expect(sent).toBe(ringBytesSent(n, t.rank, 5000, codec));
      // a ring sends only to the next rank and receives only from the previous one
      expect(stats.map((s) => s.peer).sort()).toEqual([...new Set([(t.rank + 1) % n, (t.rank + n - 1) % n])].sort());
    }
    const received = transports.flatMap((t) => t.meter!.totals()).reduce((a, s) => a + s.bytesReceived, 0);
    expect(received).toBe(transports.reduce((a, t) => a + ringBytesSent(n, t.rank, 5000, codec), 0));
  }

  it('loopback', async () => {
    await ring(createLoopbackWorld(3).transports);
  });

  it('TCP', async () => {
    const ports = await freePorts(3);
    open = await Promise.all(ports.map((_, rank) => TcpTransport.connect({ rank, worldSize: 3, ports })));
    await ring(open);
  });
});
