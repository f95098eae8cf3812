// The PeerJS signalling server (`peer` package): tabs exchange WebRTC offers, answers
// and ICE candidates through it, then talk directly. Either mount it on the
// coordinator's own HTTP server and app, or start it alone on a port (tests, bench).
// Clients: new Peer(id, { host, port, path, key }) with the same path and key.

import express from 'express';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExpressPeerServer } from 'peer';

export interface PeerServerOptions {
  /** URL path the server answers under (default '/peerjs') */
  path?: string;
  /** PeerJS API key clients must present (default 'peerjs', PeerJS's own default) */
  key?: string;
  /** ms without a heartbeat before a client is dropped (PeerJS default 60 s) */
  aliveTimeoutMs?: number;
}

export interface PeerServerInfo {
  path: string;
  key: string;
}

/** Anything with express's `use(path, handler)`; the handler must be mounted by an express app
 *  for the WebSocket endpoint to start (express fires 'mount'). */
export interface MountableApp {
  use(path: string, handler: express.Express): unknown;
}

/** Mounts the signalling server on an existing HTTP server and express app. */
export function attachPeerServer(app: MountableApp, server: Server, opts: PeerServerOptions = {}): PeerServerInfo {
  const path = normalizePath(opts.path ?? '/peerjs');
  const key = opts.key ?? 'peerjs';
  const peerApp = ExpressPeerServer(server, {
    path: '/',
    key,
    allow_discovery: false,
    ...(opts.aliveTimeoutMs ? { alive_timeout: opts.aliveTimeoutMs } : {}),
  });
  peerApp.on('error', (e: Error) => console.warn(`PeerJS server: ${e.message}`));
  app.use(path, peerApp);
  return { path, key };
}

export interface RunningPeerServer extends PeerServerInfo {
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the signalling server alone on `port` (0: any free port). */
export async function startPeerServer(
  opts: PeerServerOptions & { port?: number; host?: string } = {},
): Promise<RunningPeerServer> {
  const host = opts.host ?? '127.0.0.1';
  const app = express();
  const server = createServer(app);
  const info = attachPeerServer(app, server, opts);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new Error(`PeerJS server could not listen on ${host}:${opts.port ?? 0}: ${e.message}`)),
    );
    server.listen(opts.port ?? 0, host, resolve);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    ...info,
    host,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function normalizePath(p: string): string {
  const withSlash = p.startsWith('/') ? p : `/${p}`;
  return withSlash.length > 1 && withSlash.endsWith('/') ? withSlash.slice(0, -1) : withSlash;
}
