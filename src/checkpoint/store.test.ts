import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from '../node/temp-dirs';
import { fsCheckpointStore } from './fs-store';
import { rankFileName } from './layout';
import { memoryCheckpointStore } from './memory-store';
import { encodeRankFile } from './rank-file';
import { loadFromStore, saveRankState } from './save-load';
import { sha256Hex } from './sha256';
import type { CheckpointStore } from './store';
import { bits, flatOf, layoutOf, randomModel, rankStates, stagesOf, tinySpec } from './test-fixtures';

const spec = tinySpec(),
  model = randomModel(spec);
const layout = layoutOf(2, 2, 1);
const states = rankStates(spec, model, layout);
const fileOf = (rank: number) => encodeRankFile(spec, layout, states[rank]);

const STORES: [string, () => { store: CheckpointStore; dir?: string }][] = [
  ['memory', () => ({ store: memoryCheckpointStore() })],
  [
    'filesystem',
    () => {
      const dir = tempDir('tabtron-ckpt-');
      return { store: fsCheckpointStore(dir), dir };
    },
  ],
];

afterAll(removeTempDirs);

describe.each(STORES)('%s store', (_name, make) => {
  it('an iteration is listed only once its last file arrives; the manifest is written last', async () => {
    const { store } = make();
    for (const rank of [3, 0, 2]) {
      const r = await saveRankState(store, 10, spec, layout, states[rank]);
      expect(r!.complete).toBe(false);
      expect(await store.manifest(10)).toBeNull();
      expect(await store.latest()).toBeNull();
      await expect(store.get(10, rankFileName(rank))).rejects.toThrow(/iteration 10 has no complete checkpoint/);
    }
    const last = await saveRankState(store, 10, spec, layout, states[1]);
    expect(last).toMatchObject({ complete: true, missing: [], file: { name: 'rank_00001.safetensors', rank: 1 } });
    expect((await store.manifest(10))!.files).toHaveLength(4);
    expect(await store.latest()).toBe(10);
    expect(await store.iterations()).toEqual([10]);
    const got = await store.get(10, 'rank_00002.safetensors');
    expect(await sha256Hex(got)).toBe((await store.manifest(10))!.files[2].sha256);
    expect(got).toEqual(fileOf(2));
  });

  it('a second iteration moves latest; an older one completing late does not move it back', async () => {
    const { store } = make();
    for (const s of states.slice(0, 3)) await saveRankState(store, 10, spec, layout, s);
    for (const s of states) await saveRankState(store, 20, spec, layout, { ...s, step: 20 });
    expect(await store.latest()).toBe(20);
    await saveRankState(store, 10, spec, layout, states[3]);
    expect(await store.iterations()).toEqual([10, 20]);
    expect(await store.latest()).toBe(20);
    const loaded = await loadFromStore(store, { spec, stage: stagesOf(spec, 2)[1], tp: { size: 2, rank: 0 } });
    expect(loaded.iteration).toBe(20);
    expect(loaded.step).toBe(20);
    expect(bits(loaded.params)).toEqual(bits(flatOf(spec, model, stagesOf(spec, 2)[1], 2, 0).params));
  });

  it('refuses a wrong checksum, a wrong name or layout, and any write into a complete iteration', async () => {
    const { store } = make();
    const bytes = fileOf(0);
    const sha = await sha256Hex(bytes);
    await expect(store.put(10, 'rank_00000.safetensors', bytes, { sha256: '0'.repeat(64), layout })).rejects.toThrow(
      /rank_00000.safetensors \(rank 0\): sha256 of the received \d+ bytes is [0-9a-f]{64}, the writer said 0{64}/,
    );
    await expect(store.put(10, 'rank_00001.safetensors', bytes, { sha256: sha, layout })).rejects.toThrow(
      /rank_00001.safetensors: holds rank 0, whose file is rank_00000.safetensors/,
    );
    await expect(
      store.put(10, 'rank_00000.safetensors', bytes, { sha256: sha, layout: layoutOf(2, 2, 2) }),
    ).rejects.toThrow(
      /saved for TP 2 × PP 2 × DP 1 = 4 ranks, ZeRO stage 0, but the checkpoint's layout is TP 2 × PP 2 × DP 2 = 8 ranks/,
    );
    await store.put(10, 'rank_00000.safetensors', bytes, { sha256: sha, layout });
    // a pending file may be sent again (a reloaded tab)
    expect(await store.put(10, 'rank_00000.safetensors', bytes, { sha256: sha, layout })).toMatchObject({
      missing: ['rank_00001.safetensors', 'rank_00002.safetensors', 'rank_00003.safetensors'],
      discarded: [],
    });
    for (const s of states.slice(1)) await saveRankState(store, 10, spec, layout, s);
    const before = await store.get(10, 'rank_00000.safetensors');
    await expect(store.put(10, 'rank_00000.safetensors', fileOf(0), { sha256: sha, layout })).rejects.toThrow(
      /iteration 10 is already a complete checkpoint; its files are not replaced/,
    );
    expect(await store.get(10, 'rank_00000.safetensors')).toEqual(before);
  });

  it("files of an abandoned attempt (another layout or step) are replaced by the newest writer's, never completed with them", async () => {
    const { store } = make();
    for (const s of states.slice(0, 3)) await saveRankState(store, 10, spec, layout, s);
    const later = await saveRankState(store, 10, spec, layout, { ...states[3], step: 11 });
    expect(later).toMatchObject({
      complete: false,
      discarded: ['rank_00000.safetensors', 'rank_00001.safetensors', 'rank_00002.safetensors'],
    });
    expect(later!.missing).toEqual(['rank_00000.safetensors', 'rank_00001.safetensors', 'rank_00002.safetensors']);
    // a run resumed with other parallel sizes saves the same iteration: TP 1 × PP 1 here
    const single = layoutOf(1, 1, 1);
    const done = await saveRankState(store, 10, spec, single, rankStates(spec, model, single)[0]);
    expect(done).toMatchObject({ complete: true, discarded: ['rank_00003.safetensors'] });
    const m = (await store.manifest(10))!;
    expect(m.layout).toEqual(single);
    expect(m.files.map((f) => f.name)).toEqual(['rank_00000.safetensors']);
    await expect(store.get(10, 'rank_00003.safetensors')).rejects.toThrow(
      /iteration 10 has no file rank_00003.safetensors/,
    );
  });

  it('concurrent last puts give one manifest', async () => {
    const { store } = make();
    await Promise.all(states.map((s) => saveRankState(store, 5, spec, layout, s)));
    expect((await store.manifest(5))!.files.map((f) => f.rank)).toEqual([0, 1, 2, 3]);
  });
});

describe('filesystem layout', () => {
  it('<dir>/iter_0000010/rank_*.safetensors + manifest.json, <dir>/latest; no temp files left', async () => {
    const dir = tempDir('tabtron-ckpt-');
    const store = fsCheckpointStore(dir);
    for (const s of states) await saveRankState(store, 10, spec, layout, s);
    expect(readdirSync(dir).sort()).toEqual(['iter_0000010', 'latest']);
    expect(readdirSync(join(dir, 'iter_0000010')).sort()).toEqual(['manifest.json', ...[0, 1, 2, 3].map(rankFileName)]);
    expect(readFileSync(join(dir, 'latest'), 'utf8')).toBe('iter_0000010\n');
    const m = JSON.parse(readFileSync(join(dir, 'iter_0000010', 'manifest.json'), 'utf8'));
    expect(m.files[1].sha256).toBe(await sha256Hex(readFileSync(join(dir, 'iter_0000010', 'rank_00001.safetensors'))));
  });

  it('a restarted store finishes an iteration begun before the restart', async () => {
    const dir = tempDir('tabtron-ckpt-');
    for (const s of states.slice(0, 2)) await saveRankState(fsCheckpointStore(dir), 10, spec, layout, s);
    const again = fsCheckpointStore(dir);
    await saveRankState(again, 10, spec, layout, states[2]);
    expect(await again.manifest(10)).toBeNull();
    await saveRankState(again, 10, spec, layout, states[3]);
    expect((await again.manifest(10))!.files).toHaveLength(4);
  });

  it('a read-only store refuses writes; a missing latest pointer falls back to the newest manifest', async () => {
    const dir = tempDir('tabtron-ckpt-');
    for (const s of states) await saveRankState(fsCheckpointStore(dir), 30, spec, layout, s);
    writeFileSync(join(dir, 'latest'), 'garbage');
    const ro = fsCheckpointStore(dir, { readOnly: true });
    expect(await ro.latest()).toBe(30);
    await expect(saveRankState(ro, 40, spec, layout, states[0])).rejects.toThrow(/read-only/);
    expect(existsSync(join(dir, 'iter_0000040'))).toBe(false);
  });
});
