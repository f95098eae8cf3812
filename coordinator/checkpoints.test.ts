// Checkpoints through a real coordinator process: rank holders upload their files with their
// participant credentials, the iteration appears (manifest last) only when all are in, any
// layout loads it back over HTTP, and every bad upload is refused naming the file and rank.

import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fullModel } from '../src/model/params';
import { NO_TP } from '../src/model/tp-shard';
import { HttpCheckpointStore } from '../src/checkpoint/http-store';
import { rankFileName } from '../src/checkpoint/layout';
import { encodeRankFile } from '../src/checkpoint/rank-file';
import { loadFromStore, saveRankState } from '../src/checkpoint/save-load';
import { sha256Hex } from '../src/checkpoint/sha256';
import { bits, flatOf, layoutOf, randomModel, rankStates, stagesOf, tinySpec } from '../src/checkpoint/test-fixtures';
import {
  ADMIN,
  GRID_2x2,
  RawTab,
  TINY,
  api,
  createRun,
  startCoordinatorProcess,
  removeTempDirs,
  tempDir,
  type CoordinatorProcess,
} from './test-helpers';

const spec = tinySpec(),
  model = randomModel(spec);
const layout = layoutOf(2, 2, 1); // GRID_2x2: TP 2 × PP 2, dp 1
const states = rankStates(spec, model, layout);
const MAX = 200_000;

let c: CoordinatorProcess;
let dataDir: string;
beforeAll(async () => {
  dataDir = tempDir();
  c = await startCoordinatorProcess(dataDir, ['--checkpoint-max-bytes', String(MAX)]);
});
afterAll(async () => {
  await c?.kill('SIGTERM');
  removeTempDirs();
});

const saveConfig = (dir: string, key = 'save') => ({ file: `${key}.yml`, text: `{ "${key}": "${dir}" }\n` });
const adminStore = (runId: string, source?: 'save' | 'load') =>
  new HttpCheckpointStore({ coordinatorUrl: c.url, runId, auth: { adminToken: ADMIN }, source });

async function putRaw(
  runId: string,
  iteration: number,
  file: string,
  body: Uint8Array,
  headers: Record<string, string>,
) {
  const res = await fetch(`${c.url}/api/runs/${runId}/checkpoints/${iteration}/files/${file}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', ...headers },
    body: body as Uint8Array<ArrayBuffer>,
  });
  return { status: res.status, body: await res.json() };
}

describe('checkpoint API', () => {
  it('rank holders upload their files; the iteration is listed once whole and loads into another layout', async () => {
    const saveDir = tempDir('tabtron-save-');
    const { run, joinToken } = await createRun(c.url, [TINY, GRID_2x2, saveConfig(saveDir)]);
    const tabs = await Promise.all([0, 1, 2, 3].map(() => RawTab.join(c.url, run.id, joinToken)));
    const byRank = new Map<number, (typeof tabs)[number]>();
    for (const t of tabs) byRank.set((await t.next('generation')).assignment.rank, t);
    const storeOf = (rank: number) =>
      new HttpCheckpointStore({
        coordinatorUrl: c.url,
        runId: run.id,
        auth: { participantId: byRank.get(rank)!.participantId, secret: byRank.get(rank)!.secret },
      });

    for (const rank of [2, 0, 3]) {
      const r = await saveRankState(storeOf(rank), 10, spec, layout, states[rank]);
      expect(r).toMatchObject({ iteration: 10, complete: false, file: { name: rankFileName(rank), rank } });
      expect(await storeOf(1).manifest(10)).toBeNull();
    }
    expect(await adminStore(run.id).list()).toEqual({ source: 'save', latest: null, iterations: [] });
    expect(existsSync(join(saveDir, 'iter_0000010', 'manifest.json'))).toBe(false);
    const last = await saveRankState(storeOf(1), 10, spec, layout, states[1]);
    expect(last).toMatchObject({ complete: true, missing: [] });

    // On disk under the run's NeoX `save` directory, manifest and latest pointer included.
    expect(readdirSync(join(saveDir, 'iter_0000010')).sort()).toEqual([
      'manifest.json',
      ...[0, 1, 2, 3].map(rankFileName),
    ]);
    expect(readFileSync(join(saveDir, 'latest'), 'utf8')).toBe('iter_0000010\n');
    const list = await adminStore(run.id).list();
    expect(list).toMatchObject({ latest: 10, iterations: [{ iteration: 10, step: 10, files: 4 }] });
    const manifest = await api(c.url, 'GET', `/api/runs/${run.id}/checkpoints/latest/manifest`);
    expect(manifest.body).toMatchObject({
      iteration: 10,
      layout,
      files: [{ rank: 0 }, { rank: 1 }, { rank: 2 }, { rank: 3 }],
    });
    const file = await fetch(`${c.url}/api/runs/${run.id}/checkpoints/10/files/rank_00003.safetensors`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    const bytes = new Uint8Array(await file.arrayBuffer());
    expect(file.headers.get('x-tabtron-sha256')).toBe(await sha256Hex(bytes));
    expect(bytes).toEqual(encodeRankFile(spec, layout, states[3]));

    // A participant loads it into a single rank, fetching over HTTP with checksums verified.
    const one = await loadFromStore(storeOf(0), { spec, stage: fullModel(spec), tp: NO_TP });
    const want = flatOf(spec, model, fullModel(spec), 1, 0);
    expect(one.fetched.sort()).toEqual([0, 1, 2, 3].map(rankFileName));
    expect(bits(one.params)).toEqual(bits(want.params));
    expect(bits(one.v)).toEqual(bits(want.v));

    // The admin page's checkpoint table and event log saw it.
    const detail = (await api(c.url, 'GET', `/api/runs/${run.id}`)).body;
    expect(detail.checkpoints.map((r: { rank: number; step: number }) => [r.rank, r.step])).toEqual([
      [0, 10],
      [1, 10],
      [2, 10],
      [3, 10],
    ]);
    expect(
      detail.events.some(
        (e: { kind: string; detail: string }) => e.kind === 'checkpoint' && /iteration 10 complete/.test(e.detail),
      ),
    ).toBe(true);

    // Refusals that name the file and rank; a complete checkpoint is never overwritten.
    const other = byRank.get(1)!;
    const creds = { 'x-tabtron-participant': other.participantId, 'x-tabtron-secret': other.secret };
    const f0 = encodeRankFile(spec, layout, states[0]);
    const sha0 = await sha256Hex(f0);
    expect(
      await putRaw(run.id, 20, 'rank_00000.safetensors', f0, { ...creds, 'x-tabtron-sha256': sha0 }),
    ).toMatchObject({
      status: 403,
      body: {
        error: {
          code: 'wrong_rank',
          message: expect.stringMatching(/holds rank 1, so it may not write rank_00000.safetensors \(rank 0\)/),
        },
      },
    });
    const f1 = encodeRankFile(spec, layout, states[1]);
    const bad = await putRaw(run.id, 20, 'rank_00001.safetensors', f1, { ...creds, 'x-tabtron-sha256': sha0 });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'checksum_mismatch' } } });
    expect(bad.body.error.message).toMatch(
      new RegExp(
        `rank_00001.safetensors \\(rank 1\\): sha256 of the received ${f1.length} bytes is ${await sha256Hex(f1)}, the writer said ${sha0}`,
      ),
    );
    expect(await putRaw(run.id, 20, 'rank_00001.safetensors', f1, creds)).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'checksum_required',
          message: expect.stringMatching(/rank_00001.safetensors \(rank 1\): the x-tabtron-sha256 header/),
        },
      },
    });
    const before = readFileSync(join(saveDir, 'iter_0000010', 'rank_00001.safetensors'));
    const again = await putRaw(run.id, 10, 'rank_00001.safetensors', f1, {
      ...creds,
      'x-tabtron-sha256': await sha256Hex(f1),
    });
    expect(again).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'checkpoint_complete',
          message: expect.stringMatching(/iteration 10 is already a complete checkpoint/),
        },
      },
    });
    expect(readFileSync(join(saveDir, 'iter_0000010', 'rank_00001.safetensors'))).toEqual(before);
    expect(existsSync(join(saveDir, 'iter_0000020'))).toBe(false);
    for (const t of tabs) t.close();
  });

  it('refuses other layouts, strangers, oversized bodies and bad paths', async () => {
    const { run } = await createRun(c.url, [TINY, GRID_2x2, saveConfig(tempDir('tabtron-save-'))]);
    const single = layoutOf(1, 1, 1);
    const lone = encodeRankFile(spec, single, rankStates(spec, model, single)[0]);
    const admin = { authorization: `Bearer ${ADMIN}` };
    const sha = await sha256Hex(lone);
    expect(
      await putRaw(run.id, 1, 'rank_00000.safetensors', lone, { ...admin, 'x-tabtron-sha256': sha }),
    ).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'layout_mismatch',
          message: expect.stringMatching(
            /saved for TP 1 × PP 1 × DP 1 = 1 ranks, ZeRO stage 0, but the checkpoint's layout is TP 2 × PP 2 × DP 1 = 4 ranks/,
          ),
        },
      },
    });
    expect(
      await putRaw(run.id, 1, 'rank_00000.safetensors', lone, {
        ...admin,
        'x-tabtron-sha256': sha,
        'x-tabtron-layout': JSON.stringify(single),
      }),
    ).toMatchObject({
      status: 409,
      body: {
        error: {
          code: 'layout_mismatch',
          message: expect.stringMatching(/rank_00000.safetensors \(rank 0\): the writer saved for TP 1 × PP 1/),
        },
      },
    });
    expect(await putRaw(run.id, 1, 'rank_00000.safetensors', lone, { 'x-tabtron-sha256': sha })).toMatchObject({
      status: 401,
      body: { error: { code: 'credentials_required' } },
    });
    expect(
      await putRaw(run.id, 1, 'rank_00000.safetensors', lone, {
        'x-tabtron-participant': 'p-000000000000',
        'x-tabtron-secret': 'x',
        'x-tabtron-sha256': sha,
      }),
    ).toMatchObject({ status: 403, body: { error: { code: 'bad_credentials' } } });
    const huge = new Uint8Array(MAX + 1);
    expect(
      await putRaw(run.id, 1, 'rank_00000.safetensors', huge, { ...admin, 'x-tabtron-sha256': await sha256Hex(huge) }),
    ).toMatchObject({
      status: 413,
      body: {
        error: {
          code: 'body_too_large',
          message: expect.stringMatching(/rank_00000.safetensors \(rank 0\): the body is over 200000 bytes/),
        },
      },
    });
    const junk = new TextEncoder().encode('not a safetensors file');
    expect(
      await putRaw(run.id, 1, 'rank_00000.safetensors', junk, { ...admin, 'x-tabtron-sha256': await sha256Hex(junk) }),
    ).toMatchObject({
      status: 400,
      body: {
        error: {
          code: 'invalid_checkpoint_file',
          message: expect.stringMatching(/rank_00000.safetensors: header length/),
        },
      },
    });
    expect(await putRaw(run.id, 1, 'manifest.json', junk, { ...admin, 'x-tabtron-sha256': sha })).toMatchObject({
      status: 400,
      body: { error: { message: expect.stringMatching(/not a rank file name/) } },
    });
    expect((await api(c.url, 'GET', `/api/runs/${run.id}/checkpoints/x1/manifest`)).status).toBe(400);
    expect(await api(c.url, 'GET', `/api/runs/${run.id}/checkpoints/5/manifest`)).toMatchObject({
      status: 404,
      body: { error: { code: 'no_checkpoint' } },
    });
    expect(
      await api(c.url, 'GET', `/api/runs/${run.id}/checkpoints/latest/files/rank_00000.safetensors`),
    ).toMatchObject({ status: 404, body: { error: { code: 'no_checkpoint' } } });
    expect(await api(c.url, 'GET', `/api/runs/${run.id}/checkpoints?source=load`)).toMatchObject({
      status: 404,
      body: { error: { code: 'no_load_dir' } },
    });
    expect(await api(c.url, 'GET', `/api/runs/${run.id}/checkpoints?source=elsewhere`)).toMatchObject({
      status: 400,
      body: { error: { code: 'invalid_request' } },
    });
    expect((await api(c.url, 'GET', `/api/runs/run-0000000000/checkpoints`)).status).toBe(404);
    expect((await api(c.url, 'GET', `/api/runs/${run.id}/checkpoints`, { token: 'wrong' })).status).toBe(403);
  });

  it('a run without `save` stores under the data dir; another run reads it as its read-only `load` directory', async () => {
    const { run } = await createRun(c.url);
    for (const s of states) await saveRankState(adminStore(run.id), 4, spec, layout, { ...s, step: 4 });
    const dir = join(dataDir, 'checkpoints', run.id);
    expect(readdirSync(join(dir, 'iter_0000004'))).toContain('manifest.json');

    const { run: next } = await createRun(c.url, [TINY, GRID_2x2, saveConfig(dir, 'load')]);
    const loadStore = adminStore(next.id, 'load');
    expect(await loadStore.list()).toMatchObject({
      source: 'load',
      latest: 4,
      iterations: [{ iteration: 4, files: 4 }],
    });
    expect(await adminStore(next.id).list()).toMatchObject({ source: 'save', latest: null });
    const stage = stagesOf(spec, 2)[1];
    const got = await loadFromStore(loadStore, { spec, stage, tp: { size: 2, rank: 1 } });
    expect(got.fetched.sort()).toEqual(['rank_00002.safetensors', 'rank_00003.safetensors']);
    expect(bits(got.params)).toEqual(bits(flatOf(spec, model, stage, 2, 1).params));
    // PUTs always go to `save`: the load directory is never written.
    await saveRankState(adminStore(next.id), 4, spec, layout, { ...states[0], step: 4 });
    expect(readdirSync(join(dir, 'iter_0000004')).length).toBe(5);
    expect(readdirSync(join(dataDir, 'checkpoints', next.id, 'iter_0000004'))).toEqual(['rank_00000.safetensors']);
  });

  it('an iteration half-written before a coordinator crash stays unlisted, and completes after the restart', async () => {
    const own = tempDir();
    let p = await startCoordinatorProcess(own);
    try {
      const saveDir = tempDir('tabtron-save-');
      const { run } = await createRun(p.url, [TINY, GRID_2x2, saveConfig(saveDir)]);
      const store = () =>
        new HttpCheckpointStore({ coordinatorUrl: p.url, runId: run.id, auth: { adminToken: ADMIN } });
      for (const s of states.slice(0, 2)) await saveRankState(store(), 7, spec, layout, s);
      await p.kill('SIGKILL');
      p = await startCoordinatorProcess(own);
      expect((await store().list()).iterations).toEqual([]);
      expect(await store().manifest(7)).toBeNull();
      await saveRankState(store(), 7, spec, layout, states[2]);
      expect(await store().manifest(7)).toBeNull();
      expect(await saveRankState(store(), 7, spec, layout, states[3])).toMatchObject({ complete: true });
      expect((await store().manifest(7))!.files.map((f) => f.rank)).toEqual([0, 1, 2, 3]);
    } finally {
      await p.kill('SIGTERM');
    }
  });
});
