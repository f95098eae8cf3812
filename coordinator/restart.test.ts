// Kill -9 the coordinator and start it again on the same data dir: runs, participants,
// rank assignments, metrics and the checkpoint index are all still there, and the tabs
// take their ranks back when they reconnect.

import { afterAll, describe, expect, it } from 'vitest';
import {
  RawTab,
  api,
  createRun,
  startCoordinatorProcess,
  removeTempDirs,
  tempDir,
  type CoordinatorProcess,
} from './test-helpers';
import { PROTOCOL_VERSION } from '../src/protocol';

const procs: CoordinatorProcess[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill();
  removeTempDirs();
});

describe('restart on the same data dir', () => {
  it('keeps runs, participants and metrics', async () => {
    const dataDir = tempDir();
    const first = await startCoordinatorProcess(dataDir);
    procs.push(first);
    const { run, joinToken } = await createRun(first.url);
    const tabs = [];
    for (let i = 0; i < 5; i++) tabs.push(await RawTab.join(first.url, run.id, joinToken));
    const ranks = await Promise.all(tabs.slice(0, 4).map(async (t) => (await t.next('generation')).assignment.rank));
    tabs.slice(0, 4).forEach((t, i) => t.send({ type: 'ready', rank: ranks[i], generation: 1 }));
    await Promise.all(tabs.slice(0, 4).map((t) => t.next('start')));
    const last = tabs[ranks.indexOf(3)];
    for (let step = 1; step <= 3; step++)
      last.send({ type: 'progress', step, loss: 6 - step / 10, tokensPerSec: 100 + step });
    last.send({ type: 'checkpoint', step: 3, name: 'rank3.safetensors', bytes: 99 });
    last.send({ type: 'ping', t: 1 });
    await last.next('pong'); // everything before it has been handled
    const before = (await api(first.url, 'GET', `/api/runs/${run.id}`)).body;
    const metricsBefore = (await api(first.url, 'GET', `/api/runs/${run.id}/metrics`)).body.points;
    expect(metricsBefore).toHaveLength(6);

    expect(await first.kill('SIGKILL')).toBeNull(); // no chance to flush anything
    for (const t of tabs) t.ws.terminate();

    const second = await startCoordinatorProcess(dataDir);
    procs.push(second);
    const after = (await api(second.url, 'GET', `/api/runs/${run.id}`)).body;
    expect(after.config).toEqual(before.config);
    expect(after.plan).toEqual(before.plan);
    // the tabs train on over WebRTC while the coordinator is away: the run is still running
    expect(after.run).toMatchObject({ id: run.id, step: 3, held: 4, standbys: 1, state: 'running', generation: 1 });
    expect(after.run.stateReason).toMatch(/restarted/);
    expect(after.participants.map((p: { id: string; rank: number | null }) => [p.id, p.rank])).toEqual(
      before.participants.map((p: { id: string; rank: number | null }) => [p.id, p.rank]),
    );
    expect(after.participants.every((p: { connected: boolean }) => !p.connected)).toBe(true);
    expect(after.checkpoints).toMatchObject([{ rank: 3, step: 3, name: 'rank3.safetensors', bytes: 99 }]);
    expect((await api(second.url, 'GET', `/api/runs/${run.id}/metrics`)).body.points).toEqual(metricsBefore);
    expect((await api(second.url, 'GET', '/api/runs')).body.runs.map((r: { id: string }) => r.id)).toEqual([run.id]);

    // The tabs come back with their credentials, still in generation 1: same ranks, nothing restarts.
    const back = await Promise.all(
      tabs.slice(0, 4).map(async (t) => {
        const j = await api(second.url, 'POST', `/api/runs/${run.id}/join`, {
          body: { joinToken, device: { webgpu: true }, resume: { participantId: t.participantId, secret: t.secret } },
          token: null,
        });
        expect(j.body.participantId).toBe(t.participantId);
        const tab = await RawTab.open(second.url);
        tab.send({
          type: 'hello',
          protocol: PROTOCOL_VERSION,
          participantId: t.participantId,
          secret: t.secret,
          generation: 1,
        });
        return tab;
      }),
    );
    const ranksBack = await Promise.all(back.map(async (t) => (await t.next('assign')).assignment.rank));
    expect(ranksBack).toEqual(ranks);
    await new Promise((r) => setTimeout(r, 300));
    for (const t of back) expect(t.all('halt')).toHaveLength(0);
    const settled = (await api(second.url, 'GET', `/api/runs/${run.id}`)).body;
    expect(settled.run).toMatchObject({ state: 'running', stateReason: '', generation: 1 });
    expect(settled.recoveries[0]).toMatchObject({ cause: 'coordinator-restart', restoredFrom: 'none', lost: [] });
    expect(settled.recoveries[0].finishedAt).not.toBeNull();
    back.forEach((t) => t.close());
  });
});
