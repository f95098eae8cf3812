// Test helpers: a real coordinator process on loopback, an HTTP client for its API,
// and a raw WebSocket tab. No mocks: everything goes through sockets.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, WS_PATH, type ControlMessage, type DeviceInfo, type TabMessage } from '../src/protocol';

const root = new URL('..', import.meta.url).pathname;
export const ADMIN = 'test-admin-token';
export const TINY = { file: 'configs/tiny.yml', text: readFileSync(join(root, 'configs/tiny.yml'), 'utf8') };
/** tiny.yml split over 2 pipeline stages × 2 tensor-parallel ranks (world 4 with dp 1). */
export const GRID_2x2 = {
  file: 'grid.yml',
  text: '{ "pipe-parallel-size": 2, "model-parallel-size": 2, "gradient_accumulation_steps": 2 }\n',
};
export const DEVICE: DeviceInfo = {
  webgpu: true,
  adapter: { vendor: 'test', architecture: 'loopback' },
  limits: { maxBufferSize: 1 << 30 },
};

export { removeTempDirs, tempDir } from '../src/node/temp-dirs';

export interface CoordinatorProcess {
  url: string;
  proc: ChildProcess;
  /** Every JSON log line so far. */
  logs: Record<string, unknown>[];
  /** stdout lines that were not JSON (there should be none). */
  notJson: string[];
  stderr: string[];
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startCoordinatorProcess(dataDir: string, extra: string[] = []): Promise<CoordinatorProcess> {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'coordinator/main.ts',
      '--port',
      '0',
      '--data-dir',
      dataDir,
      '--admin-token',
      ADMIN,
      '--web',
      'none',
      ...extra,
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TABTRON_LOG_LEVEL: 'debug' },
    },
  );
  const logs: Record<string, unknown>[] = [];
  const notJson: string[] = [];
  const stderr: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => stderr.push(l));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coordinator did not start:\n${stderr.join('\n')}`)), 30_000);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line);
      } catch {
        notJson.push(line);
        return;
      }
      logs.push(rec);
      if (rec.msg === 'coordinator listening') {
        clearTimeout(timer);
        resolve(rec.url as string);
      }
    });
    proc.once('exit', (code) => reject(new Error(`coordinator exited with ${code}:\n${stderr.join('\n')}`)));
  });
  return {
    url,
    proc,
    logs,
    notJson,
    stderr,
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}

export interface ApiAnswer<T = any> {
  status: number;
  body: T;
} // eslint-disable-line @typescript-eslint/no-explicit-any

export async function api(
  base: string,
  method: string,
  path: string,
  o: { body?: unknown; raw?: string; token?: string | null; contentType?: string } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  const token = o.token === undefined ? ADMIN : o.token;
  if (token) headers.authorization = `Bearer ${token}`;
  const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (payload !== undefined) headers['content-type'] = o.contentType ?? 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: payload });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body };
}

export async function createRun(base: string, configs = [TINY, GRID_2x2], dp?: number) {
  const r = await api(base, 'POST', '/api/runs', { body: { name: 'test', configs, ...(dp ? { dp } : {}) } });
  if (r.status !== 201) throw new Error(`create run: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { run: { id: string }; joinToken: string };
}

/** A tab speaking the control protocol over a raw WebSocket. */
export class RawTab {
  readonly messages: ControlMessage[] = [];
  closed: { code: number; reason: string } | null = null;
  private waiters: (() => void)[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      this.messages.push(JSON.parse(d.toString()));
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
    ws.on('error', () => {});
  }

  static async open(base: string): Promise<RawTab> {
    const ws = new WebSocket(base.replace(/^http/, 'ws') + WS_PATH);
    await new Promise<void>((res, rej) => {
      ws.once('open', () => res());
      ws.once('error', rej);
    });
    return new RawTab(ws);
  }

  /** Joins over HTTP, opens the socket and says hello. */
  static async join(
    base: string,
    runId: string,
    joinToken: string,
    device = DEVICE,
  ): Promise<RawTab & { participantId: string; secret: string }> {
    const j = await api(base, 'POST', `/api/runs/${runId}/join`, { body: { joinToken, device }, token: null });
    if (j.status !== 201) throw new Error(`join: ${j.status} ${JSON.stringify(j.body)}`);
    const tab = await RawTab.open(base);
    tab.send({ type: 'hello', protocol: PROTOCOL_VERSION, participantId: j.body.participantId, secret: j.body.secret });
    await tab.next('welcome');
    return Object.assign(tab, { participantId: j.body.participantId as string, secret: j.body.secret as string });
  }

  send(msg: TabMessage | Record<string, unknown> | string): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** The first message of this type (already received or arriving within the timeout). */
  async next<T extends ControlMessage['type']>(
    type: T,
    timeoutMs = 10_000,
    from = 0,
  ): Promise<Extract<ControlMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.slice(from).find((m) => m.type === type);
      if (found) return found as Extract<ControlMessage, { type: T }>;
      if (this.closed)
        throw new Error(
          `socket closed (${this.closed.code} ${this.closed.reason}) before '${type}'; got ${JSON.stringify(this.messages.map((m) => m.type))}`,
        );
      if (Date.now() > deadline)
        throw new Error(`no '${type}' within ${timeoutMs} ms; got ${JSON.stringify(this.messages.map((m) => m.type))}`);
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
  }

  /** Messages of a type received after index `from`. */
  all<T extends ControlMessage['type']>(type: T, from = 0): Extract<ControlMessage, { type: T }>[] {
    return this.messages.slice(from).filter((m) => m.type === type) as Extract<ControlMessage, { type: T }>[];
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket still open');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 100);
      });
    }
    return this.closed;
  }

  close(): void {
    this.ws.close(1000);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
