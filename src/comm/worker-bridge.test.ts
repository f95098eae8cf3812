// The worker bridge (Comlink over a MessagePort; here Node's, as a rank worker and its page would
// use a browser's): a GroupSpec's `wire` reaches the collective on the transport's side, so a rank
// worker's ZeRO and sequence-parallel collectives send 16-bit messages, and without it f32 ones.
import { MessageChannel, type MessagePort as NodePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeHalf, encodeHalf } from './compress/half-wire';
import { createLoopbackWorld } from './loopback';
import { firstBitDifference } from './reference';
import { testTensor } from './test-helpers';
import { commClient, serveComm } from './worker-bridge';

const ports: NodePort[] = [];
afterEach(() => {
  for (const p of ports.splice(0)) p.close();
});

function bridged(n: number) {
  const { transports } = createLoopbackWorld(n);
  const clients = transports.map((t) => {
    const { port1, port2 } = new MessageChannel();
    ports.push(port1, port2);
    serveComm(t, port1 as unknown as MessagePort);
    return commClient(port2 as unknown as MessagePort);
  });
  const sent = () => transports.map((t) => t.meter.totals().reduce((a, s) => a + s.bytesSent, 0));
  return { clients, sent };
}

describe('worker bridge', () => {
  it('passes the 16-bit wire through: an all-gather sends half the bytes, the other piece arrives rounded', async () => {
    const pieces = [testTensor(1, 300), testTensor(2, 300)];
    const g = { name: 'dp', ranks: [0, 1] };
    const f32 = bridged(2);
    const plain = await Promise.all(f32.clients.map((c, r) => c.allGather(pieces[r].slice(), g)));
    const half = bridged(2);
    const got = await Promise.all(half.clients.map((c, r) => c.allGather(pieces[r].slice(), { ...g, wire: 'bf16' })));
    expect(f32.sent()).toEqual([1200, 1200]);
    expect(half.sent()).toEqual([600, 600]);
    expect(firstBitDifference(plain[0].subarray(300), pieces[1])).toBe(-1);
    const rounded = decodeHalf('bf16', encodeHalf('bf16', pieces[1]), 300);
    expect(firstBitDifference(got[0].subarray(300), rounded)).toBe(-1);
    expect(firstBitDifference(got[0].subarray(0, 300), pieces[0])).toBe(-1);
  });
});
