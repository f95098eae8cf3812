import { describe, expect, it } from 'vitest';
import { createLoopbackWorld } from './loopback';
import { testBytes } from './test-helpers';
import { CommError } from './transport';

describe('loopback transport', () => {
  it('delivers typed arrays of any size as a private copy', async () => {
    const [a, b] = createLoopbackWorld(2).transports;
    for (const n of [0, 1, 3, 65_537]) {
      const data = testBytes(n, n);
      const sent = a.send(1, `m${n}`, data);
      data.fill(0); // the sender may reuse its buffer once send() was called
      await sent;
      expect(await b.recv(0, `m${n}`, { bytes: n })).toEqual(testBytes(n, n));
    }
  });

  it('keeps tags apart and delivers one tag in send order', async () => {
    const [a, b] = createLoopbackWorld(2).transports;
    await Promise.all([
      a.send(1, 'x', new Uint8Array([1])),
      a.send(1, 'y', new Uint8Array([2])),
      a.send(1, 'x', new Uint8Array([3])),
    ]);
    expect([...(await b.recv(0, 'y'))]).toEqual([2]);
    expect([...(await b.recv(0, 'x'))]).toEqual([1]);
    expect([...(await b.recv(0, 'x'))]).toEqual([3]);
  });

  it('fails a receive whose message has the wrong size', async () => {
    const [a, b] = createLoopbackWorld(2).transports;
    await a.send(1, 't', new Float32Array(2));
    await expect(b.recv(0, 't', { bytes: 12, op: 'p2p' })).rejects.toThrow(
      /p2p: rank 1 ⇄ rank 0: message 't' has 8 bytes, expected 12/,
    );
  });

  it('times out a receive whose tag never comes, listing what did come', async () => {
    const [a, b] = createLoopbackWorld(2).transports;
    await a.send(1, 'other', new Uint8Array(4));
    await expect(b.recv(0, 'wanted', { timeoutMs: 100 })).rejects.toThrow(
      /timed out after 100 ms: nothing arrived for 'wanted'; unclaimed messages from this peer: 'other' \(4 B\)/,
    );
  });

  it('fails pending and later operations with a peer that went away', async () => {
    const world = createLoopbackWorld(3);
    const [a] = world.transports;
    const lost: number[] = [];
    a.onPeerLost((r) => lost.push(r));
    const pending = a.recv(2, 't');
    world.disconnect(2);
    await expect(pending).rejects.toBeInstanceOf(CommError);
    await expect(a.send(2, 't', new Uint8Array(1))).rejects.toThrow(/rank 0 ⇄ rank 2: peer lost/);
    expect(a.lostPeer(2)?.peer).toBe(2);
    expect(lost).toEqual([2]);
  });

  it('rejects bad ranks', async () => {
    const [a] = createLoopbackWorld(2).transports;
    await expect(a.send(5, 't', new Uint8Array(1))).rejects.toThrow(/no such rank/);
    await expect(a.send(0, 't', new Uint8Array(1))).rejects.toThrow(/cannot message itself/);
  });
});
