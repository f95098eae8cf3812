// The tab's join client. HTTP answers are stood in for by msw where only the client's
// handling is under test; the full join (HTTP + WebSocket, reconnect) runs against a
// real coordinator process.

import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DEVICE,
  createRun,
  startCoordinatorProcess,
  removeTempDirs,
  tempDir,
  type CoordinatorProcess,
} from '../../coordinator/test-helpers';
import type { Assignment } from '../protocol';
import { cannotTakePart, MIN_LIMITS } from './join-device';
import { JoinError, joinRun, requestJoin, type Control } from './join';

const BASE = 'http://coordinator.test';

class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(k: string) {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
  removeItem(k: string) {
    this.items.delete(k);
  }
}

describe('requestJoin (msw stands in for the coordinator)', () => {
  const seen: unknown[] = [];
  const server = setupServer(
    http.post(`${BASE}/api/runs/run-html/join`, () => new HttpResponse('<html>proxy error</html>', { status: 502 })),
    http.post(`${BASE}/api/runs/:id/join`, async ({ request, params }) => {
      const body = (await request.json()) as { joinToken: string };
      seen.push(body);
      if (params.id === 'run-missing')
        return HttpResponse.json(
          { error: { code: 'not_found', message: 'run "run-missing" not found' } },
          { status: 404 },
        );
      if (body.joinToken !== 'good')
        return HttpResponse.json(
          { error: { code: 'bad_join_token', message: 'wrong join token for run run-1' } },
          { status: 403 },
        );
      return HttpResponse.json(
        {
          runId: params.id,
          participantId: 'p-1',
          secret: 's3cret',
          peerId: 'tt-1-1',
          wsPath: '/ws',
          peerServer: { path: '/peerjs', key: 'peerjs' },
        },
        { status: 201 },
      );
    }),
  );
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => {
    seen.length = 0;
  });
  afterAll(() => server.close());

  it('stores the credentials and presents them on the next join (tab reload)', async () => {
    const storage = new MemoryStorage();
    const first = await requestJoin({
      coordinatorUrl: BASE,
      runId: 'run-1',
      joinToken: 'good',
      device: DEVICE,
      storage,
    });
    expect(first).toMatchObject({ participantId: 'p-1', wsPath: '/ws' });
    expect(seen[0]).toEqual({ joinToken: 'good', device: DEVICE });
    await requestJoin({ coordinatorUrl: BASE, runId: 'run-1', joinToken: 'good', device: DEVICE, storage });
    expect(seen[1]).toEqual({ joinToken: 'good', device: DEVICE, resume: { participantId: 'p-1', secret: 's3cret' } });
  });

  it("turns error answers into JoinErrors with the coordinator's code and message", async () => {
    const fail = (runId: string, joinToken = 'good') =>
      requestJoin({ coordinatorUrl: BASE, runId, joinToken, device: DEVICE, storage: null }).catch((e) => e);
    expect(await fail('run-1', 'bad')).toMatchObject({
      name: 'JoinError',
      status: 403,
      code: 'bad_join_token',
      message: 'wrong join token for run run-1',
    });
    expect(await fail('run-missing')).toMatchObject({ status: 404, code: 'not_found' });
    expect(await fail('run-html')).toMatchObject({
      status: 502,
      code: 'http_error',
      message: 'join failed with HTTP 502',
    });
    const unreachable = await requestJoin({
      coordinatorUrl: 'http://127.0.0.1:1',
      runId: 'r',
      joinToken: 'x',
      device: DEVICE,
      storage: null,
      fetch: globalThis.fetch,
    }).catch((e) => e);
    expect(unreachable).toBeInstanceOf(JoinError);
  });
});

describe('cannotTakePart', () => {
  it('explains a missing adapter and names every limit that is too small', () => {
    expect(cannotTakePart({ webgpu: false })).toMatch(/no WebGPU adapter/);
    const limits = { ...MIN_LIMITS, maxStorageBufferBindingSize: 1024, maxComputeWorkgroupStorageSize: 4096 };
    const why = cannotTakePart({ webgpu: true, limits })!;
    expect(why).toMatch(/maxStorageBufferBindingSize 1024 < 67108864/);
    expect(why).toMatch(/maxComputeWorkgroupStorageSize 4096 < 16384/);
    expect(cannotTakePart({ webgpu: true, limits: { ...MIN_LIMITS } })).toBeNull();
  });
});

describe('joinRun against a real coordinator', () => {
  let c: CoordinatorProcess;
  beforeAll(async () => {
    c = await startCoordinatorProcess(tempDir(), ['--rank-grace-ms', '5000']);
  });
  afterAll(async () => {
    await c?.kill('SIGTERM');
    removeTempDirs();
  });

  it('gets a rank, reports ready, reconnects after a dropped socket, and hears stop', async () => {
    const { run, joinToken } = await createRun(c.url, [(await import('../../coordinator/test-helpers')).TINY]); // world 1
    const assignments: Assignment[] = [];
    const controls: Control['type'][] = [];
    let closedWith = '';
    const sockets: WebSocket[] = [];
    class TrackedWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        sockets.push(this);
      }
    }
    const storage = new MemoryStorage();
    const conn = await joinRun({
      coordinatorUrl: c.url,
      runId: run.id,
      joinToken,
      device: DEVICE,
      storage,
      WebSocket: TrackedWebSocket as unknown as new (url: string) => globalThis.WebSocket,
      reconnect: { attempts: 3, delayMs: 50 },
      onAssignment: (a) => assignments.push(a),
      onControl: (m) => controls.push(m.type),
      onClosed: (r) => {
        closedWith = r;
      },
    });
    await until(() => controls.includes('generation'));
    expect(conn.assignment).toMatchObject({ rank: 0, sizes: { world: 1 }, participantId: conn.join.participantId });
    conn.ready();
    await until(() => controls.includes('start'));

    sockets[0].terminate(); // network blip: the client reconnects with the same credentials
    await until(() => assignments.length === 1);
    expect(sockets).toHaveLength(2);
    expect(assignments[0].rank).toBe(0);

    await fetch(`${c.url}/api/runs/${run.id}/stop`, {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token' },
    });
    await until(() => closedWith !== '');
    expect(closedWith).toBe('stopped by admin');
    expect(controls.at(-1)).toBe('stop');
    expect(storage.items.size).toBe(0); // a stopped run's credentials are dropped
  });
});

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
