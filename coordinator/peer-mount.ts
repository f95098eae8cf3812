// Mounts the PeerJS signalling server (coordinator/peer-server.ts, from the `peer`
// package) on the coordinator's own app and port, under /peerjs.

import type { Express } from 'express';
import type { Server } from 'node:http';
import { attachPeerServer, type PeerServerInfo } from './peer-server';
import type { Logger } from './telemetry';

export const PEER_PATH = '/peerjs';

export function mountPeerServer(app: Express, server: Server, log: Logger): PeerServerInfo {
  const info = attachPeerServer(app, server, { path: PEER_PATH });
  log.debug({ path: info.path }, 'PeerJS signalling mounted');
  return info;
}
