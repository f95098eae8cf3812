// Observability of a real coordinator process: Prometheus /metrics agrees with the
// database, and stdout is JSON lines.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  RawTab,
  api,
  createRun,
  startCoordinatorProcess,
  removeTempDirs,
  tempDir,
  type CoordinatorProcess,
} from './test-helpers';

let c: CoordinatorProcess;
beforeAll(async () => {
  c = await startCoordinatorProcess(tempDir());
});
afterAll(async () => {
  await c?.kill('SIGTERM');
  removeTempDirs();
});

/** Value of one sample line `name{labels} value` in Prometheus text format. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('observability', () => {
  it('exports run, participant, training and request metrics for Prometheus', async () => {
    const { run, joinToken } = await createRun(c.url);
    const tabs = [];
    for (let i = 0; i < 5; i++) tabs.push(await RawTab.join(c.url, run.id, joinToken));
    const assigned = await Promise.all(tabs.slice(0, 4).map((t) => t.next('generation')));
    const rank3 = tabs[assigned.findIndex((a) => a.assignment.rank === 3)];
    rank3.send({ type: 'ready', rank: 3, generation: 1 });
    rank3.send({ type: 'progress', step: 7, loss: 4.25, tokensPerSec: 321 });
    rank3.send({ type: 'ping', t: 0 });
    await rank3.next('pong');
    // each rank reports the whole step's tokens over its own time: the run's rate is their mean
    const rank2 = tabs[assigned.findIndex((a) => a.assignment.rank === 2)];
    rank2.send({ type: 'ready', rank: 2, generation: 1 });
    rank2.send({ type: 'progress', step: 7, loss: 4.25, tokensPerSec: 279 });
    rank2.send({ type: 'ping', t: 0 });
    await rank2.next('pong');
    await api(c.url, 'GET', '/api/runs', { token: 'wrong' });

    const res = await fetch(`${c.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(sample(text, 'tabtron_runs', { state: 'waiting' })).toBe(1);
    expect(sample(text, 'tabtron_participants', { run: run.id, state: 'assigned' })).toBe(2);
    expect(sample(text, 'tabtron_participants', { run: run.id, state: 'ready' })).toBe(2);
    expect(sample(text, 'tabtron_participants', { run: run.id, state: 'standby' })).toBe(1);
    expect(sample(text, 'tabtron_run_step', { run: run.id })).toBe(7);
    expect(sample(text, 'tabtron_train_loss', { run: run.id })).toBe(4.25);
    expect(sample(text, 'tabtron_tokens_per_second', { run: run.id })).toBe(300);
    expect(sample(text, 'tabtron_joins_total', { result: 'ok' })).toBe(5);
    expect(sample(text, 'tabtron_ws_messages_total', { type: 'hello' })).toBe(5);
    expect(sample(text, 'tabtron_http_requests_total', { method: 'GET', route: '/api/runs', status: '403' })).toBe(1);
    expect(sample(text, 'tabtron_process_resident_memory_bytes')).toBeGreaterThan(0);
    tabs.forEach((t) => t.close());
  });

  it("keeps rank 0's greedy samples for the run page, newest first, and no other rank's", async () => {
    const { run, joinToken } = await createRun(c.url);
    const tabs: RawTab[] = [];
    for (let i = 0; i < 4; i++) tabs.push(await RawTab.join(c.url, run.id, joinToken));
    const assigned = await Promise.all(tabs.map((t) => t.next('generation')));
    const byRank = (r: number) => tabs[assigned.findIndex((a) => a.assignment.rank === r)];
    byRank(0).send({ type: 'sample', step: 0, prompt: 'The', text: ' cat' });
    byRank(0).send({ type: 'sample', step: 5, prompt: 'The', text: ' cat sat' });
    byRank(3).send({ type: 'sample', step: 5, prompt: 'The', text: ' not from rank 0' });
    byRank(0).send({ type: 'ping', t: 0 });
    await byRank(0).next('pong');
    byRank(3).send({ type: 'ping', t: 0 });
    await byRank(3).next('pong');
    const detail = await api(c.url, 'GET', `/api/runs/${run.id}`);
    expect(detail.body.samples.map((s: { step: number; text: string }) => [s.step, s.text])).toEqual([
      [5, ' cat sat'],
      [0, ' cat'],
    ]);
    tabs.forEach((t) => t.close());
  });

  it('logs JSON lines only', async () => {
    expect(c.logs.length).toBeGreaterThan(3);
    expect(c.notJson).toEqual([]);
    for (const rec of c.logs)
      expect(rec).toMatchObject({ level: expect.any(Number), time: expect.any(String), msg: expect.any(String) });
    expect(c.logs.some((r) => r.msg === 'run created')).toBe(true);
    expect(c.logs.some((r) => r.msg === 'tab attached')).toBe(true);
  });
});
