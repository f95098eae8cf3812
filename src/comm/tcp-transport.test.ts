// TcpTransport over real localhost sockets: messages of any size in order per tag, the ring
// collectives on top, and a closed rank failing its peers' receives by name.
import { freePorts } from '../node/free-ports';
import { afterEach, describe, expect, it } from 'vitest';
import { allReduce, allGather } from './collectives';
import { Group } from './group';
import { TcpTransport } from './tcp-transport';

let open: TcpTransport[] = [];
afterEach(() => {
  for (const t of open) t.close();
  open = [];
});

async function world(n: number): Promise<TcpTransport[]> {
  const ports = await freePorts(n);
  open = await Promise.all(ports.map((_, rank) => TcpTransport.connect({ rank, worldSize: n, ports })));
  return open;
}

describe('TcpTransport', () => {
  it('delivers messages of 0 B to 9 MiB intact and in order per tag', async () => {
    const [a, b] = await world(2);
    const sizes = [0, 1, 7, 65_536, 9 << 20];
    const sent = sizes.map((n, i) => Uint8Array.from({ length: n }, (_, k) => (k * 31 + i) & 255));
    await Promise.all(sent.map((m) => a.send(1, 'x', m)));
    for (const m of sent)
      expect(Buffer.compare(Buffer.from(await b.recv(0, 'x', { bytes: m.length })), Buffer.from(m))).toBe(0);
    await b.send(0, 'back', Float32Array.of(1.5, -2));
    expect(Array.from(new Float32Array((await a.recv(1, 'back')).buffer))).toEqual([1.5, -2]);
  });

  it('runs ring all-reduce and all-gather over 4 processes-worth of ranks', async () => {
    const ts = await world(4);
    const groups = ts.map((t) => new Group(t, [0, 1, 2, 3]));
    const data = ts.map((_, r) => Float32Array.from({ length: 1001 }, (_, i) => r + i / 1000));
    const sums = await Promise.all(groups.map((g, r) => allReduce(g, data[r].slice(), 'sum')));
    for (const s of sums) for (let i = 0; i < 1001; i++) expect(s[i]).toBeCloseTo(6 + (4 * i) / 1000, 4);
    const gathered = await Promise.all(groups.map((g, r) => allGather(g, Float32Array.of(r * 10))));
    for (const g of gathered) expect(Array.from(g)).toEqual([0, 10, 20, 30]);
  });

  it('holds every received message back by the emulated latency, in order', async () => {
    const ports = await freePorts(2);
    open = await Promise.all(
      ports.map((_, rank) => TcpTransport.connect({ rank, worldSize: 2, ports, latencyMs: rank === 1 ? 150 : 0 })),
    );
    const [a, b] = open;
    const t0 = performance.now();
    await Promise.all([1, 2, 3].map((i) => a.send(1, 'late', Uint8Array.of(i))));
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await b.recv(0, 'late'))[0]);
    expect(got).toEqual([1, 2, 3]);
    // a lower bound only (never an upper one): the messages cannot arrive before the delay
    expect(performance.now() - t0).toBeGreaterThanOrEqual(149);
  });

  it('fails a pending receive naming the peer when that rank goes away', async () => {
    const [a, b] = await world(2);
    const pending = a.recv(1, 'never', { op: 'allReduce' });
    b.close();
    await expect(pending).rejects.toThrow(/allReduce: rank 0 ⇄ rank 1: peer lost: connection closed/);
    expect(a.lostPeer(1)?.message).toMatch(/rank 0 ⇄ rank 1/);
  });
});
