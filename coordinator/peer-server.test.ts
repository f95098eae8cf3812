import express from 'express';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { attachPeerServer, startPeerServer } from './peer-server';

/** Opens a PeerJS client socket the way the browser client does; resolves with the first server message. */
function firstMessage(url: string): Promise<{ type: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('message', (d) => {
      resolve(JSON.parse(String(d)) as { type: string });
      ws.close();
    });
    ws.once('error', reject);
  });
}

describe('PeerJS signalling server', () => {
  it('starts alone on a free port, greets a client with OPEN, and closes promptly', async () => {
    const s = await startPeerServer({ port: 0 });
    expect(s.port).toBeGreaterThan(0);
    const msg = await firstMessage(`ws://127.0.0.1:${s.port}${s.path}/peerjs?key=${s.key}&id=tab-a&token=t1`);
    expect(msg.type).toBe('OPEN');
    const t0 = Date.now();
    await s.close();
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('mounts on an existing express app and http server under a path', async () => {
    const app = express();
    app.get('/health', (_req, res) => res.send('ok'));
    const server = createServer(app);
    const info = attachPeerServer(app, server, { path: '/signal/', key: 'k1' });
    expect(info).toEqual({ path: '/signal', key: 'k1' });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      expect(await (await fetch(`http://127.0.0.1:${port}/health`)).text()).toBe('ok');
      expect((await firstMessage(`ws://127.0.0.1:${port}/signal/peerjs?key=k1&id=tab-b&token=t2`)).type).toBe('OPEN');
      // a wrong key is refused
      expect((await firstMessage(`ws://127.0.0.1:${port}/signal/peerjs?key=nope&id=tab-c&token=t3`)).type).toBe(
        'ERROR',
      );
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
