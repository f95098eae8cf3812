// The WebSocket control channel of a real coordinator process: tabs join and are seated as
// generation 1 (distinct ranks matching the plan's groups), extras wait as standbys; ready →
// start; pause/resume/stop reach every rank; a lost rank halts the others, who report, and a
// new generation seats the standby with its state from the right place; telemetry lands in
// the database and /metrics.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, type Assignment, type ControlMessage } from '../src/protocol';
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
  c = await startCoordinatorProcess(tempDir(), ['--rank-grace-ms', '400', '--reconnect-grace-ms', '400']);
});
afterAll(async () => {
  await c?.kill('SIGTERM');
  removeTempDirs();
});

const detail = async (runId: string) => (await api(c.url, 'GET', `/api/runs/${runId}`)).body;

type GenerationMsg = Extract<ControlMessage, { type: 'generation' }>;

/** The tabs seated by generation `g`, by rank. */
async function seated(tabs: Tab[], g: number, from: number[] = tabs.map(() => 0)) {
  const byRank = new Map<number, { tab: Tab; msg: GenerationMsg; a: Assignment }>();
  await Promise.all(
    tabs.map(async (tab, i) => {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline) {
        const msg = tab.all('generation', from[i]).find((m) => m.plan.generation === g);
        if (msg) return byRank.set(msg.assignment.rank, { tab, msg, a: msg.assignment });
        if (tab.all('standby', from[i]).length > 0 && tab.all('generation', from[i]).length === 0) {
          await new Promise((r) => setTimeout(r, 100));
          if (Date.now() > deadline - 9_000) return; // a standby stays one
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );
  return byRank;
}

const report = (step: number | null, reachable: number[] = step === null ? [] : [step]) => ({
  step,
  reachable,
  snapshots: [] as number[],
});

describe('run lifecycle over WebSockets', () => {
  it('seats generation 1, starts when all are ready, pauses, recovers from a lost rank, stops', async () => {
    const { run, joinToken } = await createRun(c.url); // 2 stages × 2 TP ranks
    const tabs: Tab[] = [];
    for (let i = 0; i < 5; i++) tabs.push(await RawTab.join(c.url, run.id, joinToken));
    const plan = (await detail(run.id)).plan;

    const byRank = await seated(tabs, 1);
    expect([...byRank.keys()].sort()).toEqual([0, 1, 2, 3]);
    for (const [rank, { a, tab, msg }] of byRank) {
      expect(msg.plan).toEqual({
        generation: 1,
        step: 0,
        layout: { tp: 2, pp: 2, dp: 1, accum: 2 },
        restore: { kind: 'init' },
        donate: [],
      });
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
    expect(tabs[4].all('generation')).toHaveLength(0);

    let d = await detail(run.id);
    expect(d.run).toMatchObject({ state: 'waiting', held: 4, ready: 0, standbys: 1 });
    expect(d.grid.map((g: { participant: { id: string } }) => g.participant.id)).toEqual(
      [0, 1, 2, 3].map((r) => byRank.get(r)!.tab.participantId),
    );

    // Not started until every rank is ready.
    for (const r of [0, 1, 2]) byRank.get(r)!.tab.send({ type: 'ready', rank: r, generation: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(byRank.get(0)!.tab.all('start')).toHaveLength(0);
    byRank.get(3)!.tab.send({ type: 'ready', rank: 2, generation: 1 });
    expect((await byRank.get(3)!.tab.next('error')).code).toBe('wrong_rank');
    byRank.get(3)!.tab.send({ type: 'ready', rank: 3, generation: 1 });
    for (const { tab } of byRank.values())
      expect(await tab.next('start')).toEqual({ type: 'start', step: 0, generation: 1 });
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

    // Rank 1 leaves: the others are halted towards generation 2 and report what they hold.
    const standby = tabs[4];
    const beforeLeave = tabs.map(mark);
    for (const r of [0, 2, 3]) byRank.get(r)!.tab.send({ type: 'progress', step: 2 });
    byRank.get(1)!.tab.send({ type: 'leave', reason: 'closing the tab' });
    for (const r of [0, 2, 3]) {
      const tab = byRank.get(r)!.tab;
      expect(await tab.next('halt', 5000, beforeLeave[tabs.indexOf(tab)])).toMatchObject({ generation: 2 });
    }
    expect((await detail(run.id)).run.state).toBe('waiting');
    for (const r of [0, 2, 3])
      byRank.get(r)!.tab.send({ type: 'halted', generation: 2, reason: 'asked', report: report(2, [2, 1]) });
    // TP × PP has no replica of rank 1's state and there is no checkpoint: everyone starts over
    const g2 = await seated([standby, ...[0, 2, 3].map((r) => byRank.get(r)!.tab)], 2, [
      beforeLeave[4],
      ...[0, 2, 3].map((r) => beforeLeave[tabs.indexOf(byRank.get(r)!.tab)]),
    ]);
    expect(g2.get(1)!.tab).toBe(standby);
    expect([...g2.values()].map((x) => [x.msg.plan.step, x.msg.plan.restore.kind])).toEqual(
      [...g2.values()].map(() => [0, 'init']),
    );
    for (const [rank, { tab }] of g2) tab.send({ type: 'ready', rank, generation: 2 });
    expect(await standby.next('start', 5000, beforeLeave[4])).toEqual({ type: 'start', step: 0, generation: 2 });
    d = await detail(run.id);
    expect(d.run).toMatchObject({ state: 'running', held: 4, standbys: 0 });
    expect(d.recoveries[0]).toMatchObject({
      cause: 'close',
      generation: 2,
      lost: [{ rank: 1 }],
      tookOver: [{ rank: 1, participant: standby.participantId, from: 'init' }],
      restoredFrom: 'init',
      committedStep: 2,
      resumeStep: 0,
    });
    expect(d.recoveries[0].finishedAt).toBeGreaterThanOrEqual(d.recoveries[0].startedAt);

    // Stop: every tab is told, and the sockets close.
    await api(c.url, 'POST', `/api/runs/${run.id}/stop`);
    for (const r of [0, 1, 2, 3]) {
      const tab = g2.get(r)!.tab;
      expect(await tab.next('stop')).toEqual({ type: 'stop', reason: 'stopped by admin' });
      expect((await tab.waitClosed()).code).toBe(1000);
    }
    d = await detail(run.id);
    expect(d.participants.map((p: { state: string }) => p.state)).toEqual(['left', 'left', 'left', 'left', 'left']);
  });

  it('a replica sends a lost rank its state (PP2 × DP2): no rollback; /metrics counts the recovery', async () => {
    const { run, joinToken } = await createRun(c.url, [
      TINY,
      { file: 'pp2dp2.yml', text: 'pipe_parallel_size: 2\nglobal_num_gpus: 4\ngradient_accumulation_steps: 2' },
    ]);
    const tabs: Tab[] = [];
    for (let i = 0; i < 5; i++) tabs.push(await RawTab.join(c.url, run.id, joinToken));
    const g1 = await seated(tabs, 1);
    for (const [rank, { tab }] of g1) tab.send({ type: 'ready', rank, generation: 1 });
    await Promise.all([...g1.values()].map(({ tab }) => tab.next('start')));
    const mark = tabs.map((t) => t.messages.length);
    // rank 3 = (pp 1, dp 1) goes; rank 2 = (pp 1, dp 0) holds the same state
    g1.get(3)!.tab.ws.terminate();
    const survivors = [0, 1, 2].map((r) => g1.get(r)!.tab);
    for (const t of survivors) await t.next('halt', 5000, mark[tabs.indexOf(t)]);
    survivors.forEach((t, i) =>
      t.send({ type: 'halted', generation: 2, reason: 'asked', report: report(5, i === 0 ? [5] : [6, 5]) }),
    );
    const g2 = await seated(
      tabs.filter((t) => t !== g1.get(3)!.tab),
      2,
      mark.filter((_, i) => tabs[i] !== g1.get(3)!.tab),
    );
    // rank 0 had not finished step 6, its replica (rank 1) had: rank 0 takes step 6 from it
    expect(g2.get(3)!.msg.plan).toMatchObject({ step: 6, restore: { kind: 'dp-peer', from: 2 } });
    expect(g2.get(2)!.msg.plan).toMatchObject({ restore: { kind: 'keep' }, donate: [3] });
    expect(g2.get(0)!.msg.plan).toMatchObject({ restore: { kind: 'dp-peer', from: 1 } });
    expect(g2.get(1)!.msg.plan).toMatchObject({ restore: { kind: 'keep' }, donate: [0] });
    for (const [rank, { tab }] of g2) tab.send({ type: 'ready', rank, generation: 2 });
    await g2.get(3)!.tab.next('start');
    const d = await detail(run.id);
    expect(d.recoveries[0]).toMatchObject({ cause: 'crash', restoredFrom: 'dp-peer', resumeStep: 6 });
    const metrics = await (await fetch(`${c.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(`tabtron_recoveries_total\\{run="${run.id}",cause="crash",restored_from="dp-peer"\\} 1`),
    );
    expect(metrics).toMatch(new RegExp(`tabtron_generation\\{run="${run.id}"\\} 2`));
    for (const t of tabs) t.close();
  });

  it('a holder whose socket drops and comes back in time keeps its rank and nothing restarts', async () => {
    const { run, joinToken } = await createRun(c.url);
    const tabs: Tab[] = [];
    for (let i = 0; i < 4; i++) tabs.push(await RawTab.join(c.url, run.id, joinToken));
    const g1 = await seated(tabs, 1);
    for (const [rank, { tab }] of g1) tab.send({ type: 'ready', rank, generation: 1 });
    await Promise.all(tabs.map((t) => t.next('start')));
    const a0 = g1.get(0)!;
    a0.tab.ws.terminate();
    const again = await RawTab.open(c.url);
    again.send({
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      participantId: a0.tab.participantId,
      secret: a0.tab.secret,
      generation: 1,
    });
    expect((await again.next('assign')).assignment.rank).toBe(0);
    await new Promise((r) => setTimeout(r, 1200)); // past the reconnect grace
    for (const t of tabs.slice(1)) expect(t.all('halt')).toHaveLength(0);
    expect(again.all('halt')).toHaveLength(0);
    expect((await detail(run.id)).run.state).toBe('running');
    again.close();
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
    const g1 = await seated(tabs, 1);
    for (const [rank, { tab }] of g1) tab.send({ type: 'ready', rank, generation: 1 });
    await Promise.all(tabs.map((t) => t.next('start')));
    const last = g1.get(1)!.tab,
      first = g1.get(0)!.tab;
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
