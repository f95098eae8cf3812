// LinkMeter's arithmetic on a clock the test moves, then the real transports counting real
// traffic: a compressed ring's bytes on loopback and TCP must be exactly what the plan says.
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../node/free-ports';
import { compressedAllReduce, ringBytesSent, transportP2P } from './compress/compressed-ring';
import { int8Codec } from './compress/wire-codec';
import { LinkMeter, receiveRate } from './link-meter';
import { createLoopbackWorld } from './loopback';
import { TcpTransport } from './tcp-transport';
import type { Transport } from './transport';

const Z = { timedBytesReceived: 0, receiveMs: 0 };

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
      { peer: 1, bytesSent: 150, bytesReceived: 30, messagesSent: 2, messagesReceived: 1, sendMs: 20, ...Z },
      { peer: 2, bytesSent: 7, bytesReceived: 0, messagesSent: 1, messagesReceived: 0, sendMs: 21, ...Z },
    ]);
  });

  it('times received messages from their first piece to their last, once over overlaps', () => {
    let t = 100;
    const m = new LinkMeter(() => t);
    m.received(3, 500); // in one piece: bytes, no time
    t = 200;
    m.received(3, 1000, 150, 100); // [150, 200]: 900 bytes after the first piece in 50 ms
    t = 230;
    m.received(3, 400, 180, 100); // [180, 230] overlaps: only [200, 230] is new
    const [s] = m.totals();
    expect(s).toMatchObject({ bytesReceived: 1900, messagesReceived: 3, timedBytesReceived: 1200, receiveMs: 80 });
    expect(receiveRate(s)).toBe(1200 / 0.08);
    expect(receiveRate({ ...s, receiveMs: 0 })).toBeNull();
  });

  it('take() returns what happened since the last take, busy time included up to now', () => {
    let t = 0;
    const m = new LinkMeter(() => t);
    const done = m.sending(3, 1000);
    t = 5;
    expect(m.take()).toEqual([
      { peer: 3, bytesSent: 1000, bytesReceived: 0, messagesSent: 1, messagesReceived: 0, sendMs: 5, ...Z },
    ]);
    t = 8;
    done();
    m.received(3, 10, 6, 2);
    expect(m.take()).toEqual([
      {
        peer: 3,
        bytesSent: 0,
        bytesReceived: 10,
        messagesSent: 0,
        messagesReceived: 1,
        sendMs: 3,
        timedBytesReceived: 8,
        receiveMs: 2,
      },
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
    for (const t of transports)
      for (const s of t.meter!.totals()) expect(s.timedBytesReceived).toBeLessThanOrEqual(s.bytesReceived);
  }

  it('loopback', async () => {
    await ring(createLoopbackWorld(3).transports);
  });

  it('TCP', async () => {
    const ports = await freePorts(3);
    open = await Promise.all(ports.map((_, rank) => TcpTransport.connect({ rank, worldSize: 3, ports })));
    await ring(open);
  });

  it('TCP: a message bigger than one socket read is timed from its first bytes to its last', async () => {
    const ports = await freePorts(2);
    open = await Promise.all(ports.map((_, rank) => TcpTransport.connect({ rank, worldSize: 2, ports })));
    const [a, b] = open;
    await a.send(1, 'big', new Uint8Array(8 << 20));
    await b.recv(0, 'big');
    const [s] = b.meter!.totals();
    expect(s).toMatchObject({ peer: 0, bytesReceived: 8 << 20, messagesReceived: 1 });
    expect(s.timedBytesReceived).toBeGreaterThan(0);
    expect(s.timedBytesReceived).toBeLessThan(8 << 20);
    expect(s.receiveMs).toBeGreaterThan(0);
  });
});
