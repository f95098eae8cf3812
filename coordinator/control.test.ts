// The WebSocket control channel of a real coordinator process: tabs join, get distinct ranks
// matching the plan's groups, extras wait as standbys; ready → start; pause/resume/stop reach
// every rank; a lost rank goes to a standby; telemetry lands in the database.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Assignment } from '../src/protocol';
import {
  RawTab,
  TINY,
  api,
  createRun,
  startCoordinatorProcess,
  removeTempDirs,
  tempDir,
  type CoordinatorProcess,
} from './test-helpers';

type Tab = Awaited<ReturnType<typeof RawTab.join>>;
let c: CoordinatorProcess;
beforeAll(async () => {
  c = await startCoordinatorProcess(tempDir(), ['--rank-grace-ms', '400']);
});
afterAll(async () => {
  await c?.kill('SIGTERM');
  removeTempDirs();
});

const detail = async (runId: string) => (await api(c.url, 'GET', `/api/runs/${runId}`)).body;

describe('run lifecycle over WebSockets', () => {
  it('assigns ranks, starts when all are ready, pauses, replaces a lost rank, stops', async () => {
    const { run, joinToken } = await createRun(c.url); // 2 stages × 2 TP ranks
    const tabs: Tab[] = [];
    for (let i = 0; i < 5; i++) tabs.push(await RawTab.join(c.url, run.id, joinToken));
    const plan = (await detail(run.id)).plan;

    const assigned = await Promise.all(tabs.slice(0, 4).map((t) => t.next('assign')));
    const byRank = new Map<number, { tab: Tab; a: Assignment }>();
    assigned.forEach((m, i) => byRank.set(m.assignment.rank, { tab: tabs[i], a: m.assignment }));
    expect([...byRank.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const [rank, { a, tab }] of byRank) {
      expect(a.participantId).toBe(tab.participantId);
      expect(a.sizes).toEqual({ tp: 2, pp: 2, dp: 1, world: 4 });
      expect(a.groups.tp).toEqual(plan.groups.tp.find((g: number[]) => g.includes(rank)));
      expect(a.groups.pp).toEqual(plan.groups.pp.find((g: number[]) => g.includes(rank)));
      expect(a.groups.dp).toEqual(plan.groups.dp.find((g: number[]) => g.includes(rank)));
      expect([a.layers.start, a.layers.end]).toEqual(plan.stages[a.coords.pp].layers);
      expect(a.shard).toEqual({ index: a.coords.tp, count: 2 });
      expect(a.data).toMatchObject({
        dpRank: 0,
        dpSize: 1,
        microBatchSize: 4,
        gradientAccumulationSteps: 2,
        seqLength: 64,
      });
      expect(a.config.num_layers).toBe(2);
    }
    expect(await tabs[4].next('standby')).toEqual({ type: 'standby', position: 1 });
    expect(tabs[4].all('assign')).toHaveLength(0);

    // Rank 0 (tp 0, pp 0) talks to its TP partner 1 and its next stage 2.
    const lastPeers = (t: Tab) => t.all('peers').at(-1)!.peers;
    const peerIdOf = (rank: number) => byRank.get(rank)!.a.peerId;
    expect(lastPeers(byRank.get(0)!.tab)).toEqual([1, 2].map((r) => ({ rank: r, peerId: peerIdOf(r) })));
    expect(lastPeers(byRank.get(3)!.tab)).toEqual([1, 2].map((r) => ({ rank: r, peerId: peerIdOf(r) })));

    let d = await detail(run.id);
    expect(d.run).toMatchObject({ state: 'waiting', held: 4, ready: 0, standbys: 1 });
    expect(d.grid.map((g: { participant: { id: string } }) => g.participant.id)).toEqual(
      [0, 1, 2, 3].map((r) => byRank.get(r)!.tab.participantId),
    );

    // Not started until every rank is ready.
    for (const r of [0, 1, 2]) byRank.get(r)!.tab.send({ type: 'ready', rank: r });
    await new Promise((r) => setTimeout(r, 200));
    expect(byRank.get(0)!.tab.all('start')).toHaveLength(0);
    byRank.get(3)!.tab.send({ type: 'ready', rank: 2 });
    expect((await byRank.get(3)!.tab.next('error')).code).toBe('wrong_rank');
    byRank.get(3)!.tab.send({ type: 'ready', rank: 3 });
    for (const { tab } of byRank.values()) expect(await tab.next('start')).toEqual({ type: 'start', step: 0 });
    expect((await detail(run.id)).run).toMatchObject({ state: 'running', ready: 4 });

    // Telemetry: stored and served back.
    const r3 = byRank.get(3)!.tab;
    r3.send({ type: 'progress', step: 1, loss: 5.5, tokensPerSec: 120, timings: { forwardMs: 3, backwardMs: 6 } });
    r3.send({ type: 'progress', step: 2, loss: 5.25, valLoss: 5.4, tokensPerSec: 130 });
    r3.send({ type: 'links', links: [{ peerRank: 1, bytes: 2_000_000, ms: 500 }] });
    // with what arrived from the peer, the rate is the receiver's: link 2 → 3 at 3 MB/s
    r3.send({ type: 'links', links: [{ peerRank: 2, bytes: 0, ms: 0, bytesIn: 600_000, msIn: 200 }] });
    r3.send({
      type: 'round',
      step: 2,
      fragment: 0,
      fragments: 1,
      bytes: 5000,
      deltaNorm: 0.5,
      updateNorm: 0.8,
      ms: 40,
    });
    r3.send({
      type: 'spans',
      step: 2,
      spans: [
        { kind: 'forward', microbatch: 0, startMs: 10, endMs: 12 },
        { kind: 'backward', microbatch: 0, startMs: 12, endMs: 16 },
      ],
    });
    r3.send({ type: 'checkpoint', step: 2, name: 'rank3.safetensors', bytes: 1234 });
    r3.send({ type: 'ping', t: 42 });
    expect(await r3.next('pong')).toEqual({ type: 'pong', t: 42 });
    const m = (await api(c.url, 'GET', `/api/runs/${run.id}/metrics`)).body;
    const val = (name: string, step: number) =>
      m.points.find((p: { name: string; step: number }) => p.name === name && p.step === step)?.value;
    expect([
      val('loss', 1),
      val('loss', 2),
      val('val_loss', 2),
      val('tokens_per_sec', 2),
      val('forward_ms', 1),
    ]).toEqual([5.5, 5.25, 5.4, 130, 3]);
    expect(m.points.find((p: { name: string }) => p.name === 'link_bytes_per_sec')).toMatchObject({
      rank: 3,
      peerRank: 1,
      value: 4_000_000,
    });
    expect(
      m.points.find((p: { name: string; rank: number }) => p.name === 'link_bytes_per_sec' && p.rank === 2),
    ).toMatchObject({ peerRank: 3, value: 3_000_000 });
    expect(m.points.find((p: { name: string }) => p.name === 'link_bytes')).toMatchObject({
      rank: 3,
      peerRank: 1,
      value: 2_000_000,
    });
    expect(['round_bytes', 'outer_delta_norm', 'outer_update_norm', 'round_ms'].map((n) => val(n, 2))).toEqual([
      5000, 0.5, 0.8, 40,
    ]);
    expect(m.spans).toEqual([
      { rank: 3, stage: 1, step: 2, kind: 'forward', microbatch: 0, startMs: 10, endMs: 12 },
      { rank: 3, stage: 1, step: 2, kind: 'backward', microbatch: 0, startMs: 12, endMs: 16 },
    ]);
    const after = (await api(c.url, 'GET', `/api/runs/${run.id}/metrics?after=${m.last}`)).body;
    expect(after.points).toEqual([]);
    d = await detail(run.id);
    expect(d.run.step).toBe(2);
    expect(d.checkpoints).toMatchObject([{ rank: 3, step: 2, name: 'rank3.safetensors', bytes: 1234 }]);

    // Admin pause / resume reach every rank (not the standby).
    const mark = (t: Tab) => t.messages.length;
    const before = tabs.map(mark);
    await api(c.url, 'POST', `/api/runs/${run.id}/pause`);
    for (const { tab } of byRank.values())
      expect(await tab.next('pause', 5000, before[tabs.indexOf(tab)])).toEqual({
        type: 'pause',
        reason: 'paused by admin',
      });
    await api(c.url, 'POST', `/api/runs/${run.id}/resume`);
    for (const { tab } of byRank.values()) await tab.next('resume', 5000, before[tabs.indexOf(tab)]);
    expect(tabs[4].all('pause', before[4])).toHaveLength(0);
    expect((await detail(run.id)).run.state).toBe('running');

    // Rank 1 leaves: the standby takes rank 1, the others pause and learn the new peer id.
    const standby = tabs[4];
    const beforeLeave = tabs.map(mark);
    byRank.get(1)!.tab.send({ type: 'leave', reason: 'closing the tab' });
    const promoted = (await standby.next('assign')).assignment;
    expect(promoted.rank).toBe(1);
    expect(await byRank.get(0)!.tab.next('pause', 5000, beforeLeave[tabs.indexOf(byRank.get(0)!.tab)])).toMatchObject({
      reason: '4 of 4 ranks held, 3 ready',
    });
    const peers0 = byRank
      .get(0)!
      .tab.all('peers', beforeLeave[tabs.indexOf(byRank.get(0)!.tab)])
      .at(-1)!.peers;
    expect(peers0.find((p) => p.rank === 1)!.peerId).toBe(promoted.peerId);
    standby.send({ type: 'ready', rank: 1 });
    expect(await standby.next('start')).toEqual({ type: 'start', step: 2 });
    expect((await detail(run.id)).run).toMatchObject({ state: 'running', held: 4, standbys: 0 });

    // Stop: every tab is told, and the sockets close.
    await api(c.url, 'POST', `/api/runs/${run.id}/stop`);
    for (const r of [0, 1, 2, 3]) {
      const tab = r === 1 ? standby : byRank.get(r)!.tab;
      expect(await tab.next('stop')).toEqual({ type: 'stop', reason: 'stopped by admin' });
      expect((await tab.waitClosed()).code).toBe(1000);
    }
    d = await detail(run.id);
    expect(d.participants.map((p: { state: string }) => p.state)).toEqual(['left', 'left', 'left', 'left', 'left']);
  });

  it('gives a disconnected rank to a standby after the grace period; a reload within it keeps the rank', async () => {
    const { run, joinToken } = await createRun(c.url, undefined, undefined);
    const tabs: Tab[] = [];
    for (let i = 0; i < 5; i++) tabs.push(await RawTab.join(c.url, run.id, joinToken));
    const a0 = (await tabs[0].next('assign')).assignment;

    // Reconnect quickly with the same credentials: same rank, assignment repeated.
    tabs[0].ws.terminate();
    const again = await RawTab.open(c.url);
    again.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      participantId: tabs[0].participantId,
      secret: tabs[0].secret,
    });
    expect((await again.next('assign')).assignment.rank).toBe(a0.rank);
    await new Promise((r) => setTimeout(r, 600));
    expect(tabs[4].all('assign')).toHaveLength(0);

    // Gone for longer than the grace period: the rank is assigned to the standby.
    again.ws.terminate();
    expect((await tabs[4].next('assign', 5000)).assignment.rank).toBe(a0.rank);
    const participants = (await detail(run.id)).participants;
    expect(participants[0]).toMatchObject({ state: 'left', rank: null });
    for (const t of tabs.slice(1)) t.close();
  });
});

describe('finishing', () => {
  it('stops the run as finished once every rank reported step train_iters, keeping the final loss', async () => {
    const { run, joinToken } = await createRun(c.url, [
      TINY,
      { file: 'pp2.yml', text: 'pipe_parallel_size: 2\ngradient_accumulation_steps: 2\ntrain_iters: 5' },
    ]);
    const tabs = [await RawTab.join(c.url, run.id, joinToken), await RawTab.join(c.url, run.id, joinToken)];
    const ranks = await Promise.all(tabs.map(async (t) => (await t.next('assign')).assignment.rank));
    tabs.forEach((t, i) => t.send({ type: 'ready', rank: ranks[i] }));
    await Promise.all(tabs.map((t) => t.next('start')));
    const last = tabs[ranks.indexOf(1)],
      first = tabs[ranks.indexOf(0)];
    last.send({ type: 'progress', step: 5, loss: 3.25 });
    await new Promise((r) => setTimeout(r, 200));
    expect(last.all('stop')).toHaveLength(0); // rank 0 has not finished yet
    first.send({ type: 'progress', step: 5 });
    expect(await last.next('stop')).toEqual({ type: 'stop', reason: 'finished: every rank reached train_iters 5' });
    const d = await detail(run.id);
    expect(d.run).toMatchObject({
      state: 'stopped',
      step: 5,
      stateReason: 'finished: every rank reached train_iters 5',
    });
    const points = (await api(c.url, 'GET', `/api/runs/${run.id}/metrics`)).body.points;
    expect(points.filter((p: { name: string }) => p.name === 'loss').map((p: { value: number }) => p.value)).toEqual([
      3.25,
    ]);
  });
});

describe('message validation', () => {
  it('answers malformed and unknown messages with errors that name the fault, and keeps the socket', async () => {
    const { run, joinToken } = await createRun(c.url);
    const tab = await RawTab.join(c.url, run.id, joinToken);
    tab.send('{not json');
    expect(await tab.next('error')).toMatchObject({
      code: 'invalid_message',
      fatal: false,
      message: expect.stringMatching(/malformed JSON/),
    });
    tab.send({ type: 'teleport' });
    await new Promise((r) => setTimeout(r, 200));
    expect(tab.all('error').at(-1)!.message).toMatch(/^type: /);
    tab.send({ type: 'progress', step: -1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(tab.all('error').at(-1)!.message).toMatch(/^step: /);
    tab.send({ type: 'ready', rank: 0, extra: true });
    await new Promise((r) => setTimeout(r, 200));
    expect(tab.all('error').at(-1)!.message).toMatch(/extra/);
    expect(tab.closed).toBeNull();
    tab.close();
  });

  it('a standby may not report training progress', async () => {
    const { run, joinToken } = await createRun(c.url, undefined);
    const tabs = [];
    for (let i = 0; i < 5; i++) tabs.push(await RawTab.join(c.url, run.id, joinToken));
    await tabs[4].next('standby');
    tabs[4].send({ type: 'progress', step: 1, loss: 1 });
    expect(await tabs[4].next('error')).toMatchObject({ code: 'not_ranked', fatal: false });
    tabs.forEach((t) => t.close());
  });

  it('closes sockets that skip the hello, use a wrong secret, send oversized frames or flood', async () => {
    const { run, joinToken } = await createRun(c.url);
    const noHello = await RawTab.open(c.url);
    noHello.send({ type: 'ready', rank: 0 });
    expect(await noHello.next('error')).toMatchObject({ code: 'hello_expected', fatal: true });
    expect((await noHello.waitClosed()).code).toBe(4002);

    const j = (
      await api(c.url, 'POST', `/api/runs/${run.id}/join`, {
        body: { joinToken, device: { webgpu: true } },
        token: null,
      })
    ).body;
    const wrong = await RawTab.open(c.url);
    wrong.send({ type: 'hello', protocol: PROTOCOL_VERSION, participantId: j.participantId, secret: 'guess' });
    expect(await wrong.next('error')).toMatchObject({ code: 'bad_credentials', fatal: true });
    expect((await wrong.waitClosed()).code).toBe(4003);

    const big = await RawTab.join(c.url, run.id, joinToken);
    big.send({ type: 'log', level: 'info', message: 'x'.repeat(70 * 1024) });
    expect((await big.waitClosed()).code).toBe(1009);

    const flood = await RawTab.join(c.url, run.id, joinToken);
    for (let i = 0; i < 400; i++) flood.send({ type: 'ping', t: i });
    expect((await flood.waitClosed()).code).toBe(4008);
    expect(flood.all('error').at(-1)).toMatchObject({ code: 'rate_limited', fatal: true });
  });
});

describe('PeerJS signalling on the same port', () => {
  it('opens a PeerJS client socket beside the control channel', async () => {
    const { default: WebSocket } = await import('ws');
    const ws = new WebSocket(`${c.url.replace(/^http/, 'ws')}/peerjs/peerjs?key=peerjs&id=tt-test-1&token=abc`);
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(d.toString()));
      ws.once('error', reject);
    });
    expect(JSON.parse(first)).toEqual({ type: 'OPEN' });
    ws.close();
    const id = await fetch(`${c.url}/peerjs/peerjs/id`);
    expect(id.status).toBe(200);
  });
});
