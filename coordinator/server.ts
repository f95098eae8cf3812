// One process, one port: the web app, the HTTP API, a WebSocket per tab, the PeerJS
// signalling server and /metrics, over state kept in SQLite under the data dir (checkpoints:
// in each run's NeoX `save` directory, else <data dir>/checkpoints/<run id>).

import express from 'express';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WS_PATH } from '../src/protocol';
import { openDatabase } from './db';
import { newSecret } from './ids';
import { MAX_CHECKPOINT_FILE_BYTES } from './api-schemas';
import { RunCheckpoints } from './checkpoints';
import { RunData } from './run-data';
import { createApiRouter, errorHandler, requestMetrics } from './http';
import { RunManager } from './lifecycle';
import type { Timeouts } from './generations';
import { MetricsStore } from './metrics-store';
import { mountPeerServer } from './peer-mount';
import { Store, type ConfigSource } from './store';
import { createLogger, createTelemetry, type Logger } from './telemetry';
import { isolationHeaders, webApp, type WebMode } from './web';
import { DEFAULT_CHANNEL, createControlChannel, type ControlChannelOptions } from './ws';

export interface CoordinatorOptions {
  port: number;
  host: string;
  dataDir: string;
  /** Generated (and logged once) when not given. */
  adminToken?: string;
  web: WebMode;
  /** vite mode: watch files and serve HMR (default true; headless runs turn it off) */
  webWatch?: boolean;
  rankGraceMs: number;
  /** membership changes: reconnect grace of a rank holder, halt and restore timeouts (ms) */
  elastic?: Partial<Timeouts>;
  joinRateLimit: { windowMs: number; limit: number };
  /** largest rank checkpoint file a PUT may carry (default 1 GiB) */
  checkpointMaxBytes?: number;
  channel?: Partial<ControlChannelOptions>;
  /** Runs to create at start (e.g. from `tabtron coordinator configs/tiny.yml`). */
  initialRuns?: { name?: string; sources: ConfigSource[]; dp?: number }[];
  logger?: Logger;
}

export const DEFAULTS: Omit<CoordinatorOptions, 'dataDir'> = {
  port: 8787,
  host: '127.0.0.1',
  web: 'auto',
  rankGraceMs: 30_000,
  joinRateLimit: { windowMs: 60_000, limit: 60 },
};

export interface Coordinator {
  url: string;
  port: number;
  adminToken: string;
  runs: RunManager;
  createdRunIds: string[];
  close(): Promise<void>;
}

export async function startCoordinator(
  options: Partial<CoordinatorOptions> & { dataDir: string },
): Promise<Coordinator> {
  const o = { ...DEFAULTS, ...options };
  const log = o.logger ?? createLogger();
  const adminToken = o.adminToken ?? newSecret(18);
  const db = openDatabase(o.dataDir);
  const telemetry = createTelemetry(db);
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', 'loopback');
  const server = createServer(app);

  // Three WebSocket endpoints share the port; each upgrade goes to exactly one of them
  // (the PeerJS server answers 400 to any path but its own, so it must not see the others).
  type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  const takeUpgradeListeners = () => {
    const ls = server.listeners('upgrade') as UpgradeListener[];
    server.removeAllListeners('upgrade');
    return ls;
  };
  const peer = mountPeerServer(app, server, log);
  const peerUpgrades = takeUpgradeListeners();
  const web = await webApp(o.web, server, undefined, o.webWatch ?? true);
  const viteUpgrades = takeUpgradeListeners();
  let checkpoints: RunCheckpoints | null = null;
  const runs = new RunManager(new Store(db), new MetricsStore(db), log, {
    rankGraceMs: o.rankGraceMs,
    peerServer: peer,
    ...o.elastic,
    checkpointSteps: (run) => checkpoints?.completeSteps(run) ?? Promise.resolve({ save: [], load: [] }),
  });
  const control = createControlChannel(runs, telemetry, log, { ...DEFAULT_CHANNEL, ...o.channel });

  app.use(requestMetrics(telemetry, log));
  checkpoints = new RunCheckpoints(runs, o.dataDir);
  app.use(
    '/api',
    createApiRouter({
      runs,
      telemetry,
      log,
      adminToken,
      joinRateLimit: o.joinRateLimit,
      checkpoints,
      checkpointMaxBytes: o.checkpointMaxBytes ?? MAX_CHECKPOINT_FILE_BYTES,
      data: new RunData(),
    }),
  );
  app.get('/metrics', async (_req, res, next) => {
    try {
      res.type(telemetry.registry.contentType).send(await telemetry.registry.metrics());
    } catch (e) {
      next(e);
    }
  });
  if (web.handler) app.use(isolationHeaders, web.handler);
  app.use(errorHandler(log));

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === WS_PATH) return control.handleUpgrade(req, socket, head);
    const targets = path === peer.path || path.startsWith(`${peer.path}/`) ? peerUpgrades : viteUpgrades;
    if (targets.length === 0) return socket.destroy();
    for (const l of targets) l.call(server, req, socket, head);
  });

  const createdRunIds = (o.initialRuns ?? []).map((r) => runs.createRun(r).run.id);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  log.info(
    { url, port, dataDir: o.dataDir, web: o.web, peerServer: peer.path, runs: createdRunIds },
    'coordinator listening',
  );

  return {
    url,
    port,
    adminToken,
    runs,
    createdRunIds,
    async close() {
      control.close();
      runs.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await web.close();
      db.close();
    },
  };
}
