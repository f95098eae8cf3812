// The HTTP API of a real coordinator process on loopback: runs are created and planned,
// and every kind of bad request gets its own status and a message that names the fault.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePlan } from '../src/parallel/plan';
import { planInputFromConfig } from '../src/parallel/from-config';
import {
  ADMIN,
  DEVICE,
  GRID_2x2,
  TINY,
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

describe('runs', () => {
  it('creates a run from NeoX YAML and plans it: PP·TP·DP ranks, groups from the topology', async () => {
    const created = await api(c.url, 'POST', '/api/runs', { body: { name: 'grid', configs: [TINY, GRID_2x2], dp: 2 } });
    expect(created.status).toBe(201);
    const { run, joinToken, joinPath } = created.body;
    expect(run).toMatchObject({ name: 'grid', state: 'waiting', sizes: { tp: 2, pp: 2, dp: 2, world: 8 }, held: 0 });
    expect(joinToken).toMatch(/^[\w-]{16,}$/);
    expect(joinPath).toContain(`run=${run.id}`);

    const detail = await api(c.url, 'GET', `/api/runs/${run.id}`);
    expect(detail.status).toBe(200);
    // The later file wins; the batch is re-derived for the run's real data-parallel size.
    expect(detail.body.config).toMatchObject({
      pipe_parallel_size: 2,
      model_parallel_size: 2,
      num_layers: 2,
      global_num_gpus: 8,
      train_batch_size: 4 * 2 * 2,
    });
    expect(detail.body.plan.groups.tp).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ]);
    expect(detail.body.plan.groups.pp).toEqual([
      [0, 4],
      [1, 5],
      [2, 6],
      [3, 7],
    ]);
    expect(detail.body.plan.groups.dp).toEqual([
      [0, 2],
      [1, 3],
      [4, 6],
      [5, 7],
    ]);
    expect(detail.body.plan.stages.map((s: { layers: number[] }) => s.layers)).toEqual([
      [0, 1],
      [1, 2],
    ]);
    expect(detail.body.grid).toHaveLength(8);
    expect(detail.body.grid[5]).toMatchObject({ rank: 5, tp: 1, dp: 0, pp: 1, participant: null });
    expect(detail.body.sources.map((s: { file: string }) => s.file)).toEqual(['configs/tiny.yml', 'grid.yml']);

    // The plan is src/parallel's for the same config (not a second implementation).
    const { input } = planInputFromConfig(detail.body.config, { world: 8 });
    expect(detail.body.plan.bubble_fraction).toBe(makePlan(input).bubbleFraction);

    const list = await api(c.url, 'GET', '/api/runs');
    expect(list.body.runs.map((r: { id: string }) => r.id)).toContain(run.id);
  });

  it('takes the data-parallel size from global_num_gpus when dp is not given', async () => {
    const r = await api(c.url, 'POST', '/api/runs', {
      body: { configs: [TINY, GRID_2x2, { file: 'gpus.yml', text: 'global_num_gpus: 12' }] },
    });
    expect(r.status).toBe(201);
    expect(r.body.run.sizes).toEqual({ tp: 2, pp: 2, dp: 3, world: 12 });
  });

  it('pauses, resumes and stops a run; a stopped run takes no joins', async () => {
    const { run, joinToken } = await createRun(c.url);
    expect((await api(c.url, 'POST', `/api/runs/${run.id}/pause`)).body.run).toMatchObject({
      state: 'paused',
      paused: true,
    });
    expect((await api(c.url, 'POST', `/api/runs/${run.id}/resume`)).body.run).toMatchObject({
      state: 'waiting',
      paused: false,
    });
    expect((await api(c.url, 'POST', `/api/runs/${run.id}/stop`)).body.run.state).toBe('stopped');
    const join = await api(c.url, 'POST', `/api/runs/${run.id}/join`, {
      body: { joinToken, device: DEVICE },
      token: null,
    });
    expect(join).toMatchObject({ status: 409, body: { error: { code: 'run_stopped' } } });
    expect((await api(c.url, 'POST', `/api/runs/${run.id}/pause`)).status).toBe(409);
  });
});

describe('bad requests', () => {
  const cases: [string, () => Promise<{ status: number; body: any }>, number, string, RegExp][] = [
    // eslint-disable-line @typescript-eslint/no-explicit-any
    [
      'malformed JSON',
      () => api(c.url, 'POST', '/api/runs', { raw: '{"configs": [' }),
      400,
      'invalid_json',
      /malformed JSON/,
    ],
    [
      'no admin token',
      () => api(c.url, 'GET', '/api/runs', { token: null }),
      401,
      'admin_token_required',
      /admin token/,
    ],
    [
      'wrong admin token',
      () => api(c.url, 'GET', '/api/runs', { token: 'nope' }),
      403,
      'bad_admin_token',
      /wrong admin token/,
    ],
    [
      'oversized body',
      () =>
        api(c.url, 'POST', '/api/runs', {
          raw: JSON.stringify({ configs: [{ file: 'big.yml', text: 'x'.repeat(600_000) }] }),
        }),
      413,
      'body_too_large',
      /over 524288 bytes/,
    ],
    [
      'not JSON',
      () => api(c.url, 'POST', '/api/runs', { raw: 'configs=1', contentType: 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
      /application\/json/,
    ],
    [
      'unknown run',
      () => api(c.url, 'GET', '/api/runs/run-0000000000'),
      404,
      'not_found',
      /run "run-0000000000" not found/,
    ],
    ['unknown run (bad id)', () => api(c.url, 'POST', '/api/runs/..%2Fx/pause'), 404, 'not_found', /not found/],
    ['unknown endpoint', () => api(c.url, 'GET', '/api/nope'), 404, 'no_such_endpoint', /GET \/api\/nope/],
    [
      'missing configs',
      () => api(c.url, 'POST', '/api/runs', { body: { name: 'x' } }),
      400,
      'invalid_request',
      /configs/,
    ],
    [
      'unknown field',
      () => api(c.url, 'POST', '/api/runs', { body: { configs: [TINY], colour: 'red' } }),
      400,
      'invalid_request',
      /colour/,
    ],
    [
      'bad dp',
      () => api(c.url, 'POST', '/api/runs', { body: { configs: [TINY], dp: 0 } }),
      400,
      'invalid_request',
      /dp/,
    ],
    [
      'YAML syntax error',
      () =>
        api(c.url, 'POST', '/api/runs', { body: { configs: [{ file: 'broken.yml', text: '{ "num-layers": 2,, ]' }] } }),
      400,
      'invalid_config',
      /broken\.yml/,
    ],
    [
      'invalid config value',
      () =>
        api(c.url, 'POST', '/api/runs', { body: { configs: [TINY, { file: 'bad.yml', text: 'hidden_size: -3' }] } }),
      400,
      'invalid_config',
      /hidden_size/,
    ],
    [
      'config valid, run size not',
      () =>
        api(c.url, 'POST', '/api/runs', {
          body: { configs: [TINY, { file: 'batch.yml', text: 'global_num_gpus: 4\ntrain_batch_size: 16' }], dp: 3 },
        }),
      400,
      'invalid_plan',
      /train_batch_size \(16\)/,
    ],
  ];
  for (const [name, call, status, code, message] of cases) {
    it(`${name} → ${status} ${code}`, async () => {
      const r = await call();
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(r.body.error.message).toMatch(message);
    });
  }

  it('join: wrong token, no WebGPU, malformed device', async () => {
    const { run, joinToken } = await createRun(c.url);
    const join = (body: unknown) => api(c.url, 'POST', `/api/runs/${run.id}/join`, { body, token: null });
    expect(await join({ joinToken: 'wrong', device: DEVICE })).toMatchObject({
      status: 403,
      body: { error: { code: 'bad_join_token' } },
    });
    expect(await join({ joinToken, device: { webgpu: false } })).toMatchObject({
      status: 422,
      body: { error: { code: 'no_webgpu' } },
    });
    const bad = await join({ joinToken, device: { webgpu: 'yes' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/device\.webgpu/);
    const unknownRun = await api(c.url, 'POST', '/api/runs/run-ffffffffff/join', {
      body: { joinToken, device: DEVICE },
      token: null,
    });
    expect(unknownRun.status).toBe(404);
    // The admin token is not a join token, and a join token is not an admin token.
    expect((await join({ joinToken: ADMIN, device: DEVICE })).status).toBe(403);
    expect((await api(c.url, 'GET', '/api/runs', { token: joinToken })).status).toBe(403);
  });
});

describe('join rate limit', () => {
  it('answers 429 once an address passes the limit', async () => {
    const limited = await startCoordinatorProcess(tempDir(), ['--join-limit', '3']);
    try {
      const { run, joinToken } = await createRun(limited.url);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        statuses.push(
          (
            await api(limited.url, 'POST', `/api/runs/${run.id}/join`, {
              body: { joinToken, device: DEVICE },
              token: null,
            })
          ).status,
        );
      }
      expect(statuses).toEqual([201, 201, 201, 429, 429]);
      const r = await api(limited.url, 'POST', `/api/runs/${run.id}/join`, {
        body: { joinToken, device: DEVICE },
        token: null,
      });
      expect(r.body.error).toMatchObject({ code: 'rate_limited' });
      expect(r.body.error.message).toMatch(/at most 3 per 60 s/);
    } finally {
      await limited.kill('SIGTERM');
    }
  });
});
