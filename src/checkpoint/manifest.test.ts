import { describe, expect, it } from 'vitest';
import { parseManifest, type Manifest } from './manifest';
import { memoryCheckpointStore } from './memory-store';
import { saveRankState } from './save-load';
import { layoutOf, randomModel, rankStates, tinySpec } from './test-fixtures';

async function manifestOf(layout = layoutOf(2, 2, 1)): Promise<Manifest> {
  const spec = tinySpec(),
    store = memoryCheckpointStore();
  for (const s of rankStates(spec, randomModel(spec), layout)) await saveRankState(store, 10, spec, layout, s);
  return (await store.manifest(10))!;
}

describe('manifest', () => {
  it('lists every writer with coordinates, stage, size, sha256 and tensor names', async () => {
    const m = await manifestOf();
    expect(m).toMatchObject({
      format: 'tabtron-checkpoint',
      version: 1,
      iteration: 10,
      step: 10,
      layout: { tp: 2, pp: 2, dp: 1, zeroStage: 0, world: 4 },
    });
    expect(m.spec).toEqual(tinySpec());
    expect(m.files.map((f) => [f.name, f.coord])).toEqual([
      ['rank_00000.safetensors', { rank: 0, tp: 0, pp: 0, dp: 0 }],
      ['rank_00001.safetensors', { rank: 1, tp: 1, pp: 0, dp: 0 }],
      ['rank_00002.safetensors', { rank: 2, tp: 0, pp: 1, dp: 0 }],
      ['rank_00003.safetensors', { rank: 3, tp: 1, pp: 1, dp: 0 }],
    ]);
    expect(m.files[2].stage).toEqual({ firstLayer: 2, endLayer: 4, hasEmbedding: false, hasHead: true });
    expect(m.files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(m.files[0].tensors).toContain('adam.m/layers.1.mlp.down.weight');
    expect(parseManifest(JSON.stringify(m))).toEqual(m);
  });

  it('ZeRO DP2: every rank is listed with its flat moment range; only dp 0 holds params', async () => {
    const m = await manifestOf(layoutOf(1, 1, 2, 1));
    expect(m.files.map((f) => [f.params, f.moments, f.optRange.start])).toEqual([
      [true, 'flat', 0],
      [false, 'flat', m.files[0].optRange.end],
    ]);
  });

  it('rejects bad manifests naming the file entry and key', async () => {
    const m = await manifestOf();
    const edit = (f: (x: any) => void) => {
      const c = structuredClone(m) as any;
      f(c);
      return JSON.stringify(c);
    }; // eslint-disable-line @typescript-eslint/no-explicit-any
    const cases: [string, string, RegExp][] = [
      ['bad json', '{"format":', /ckpt\/manifest.json: not valid JSON/],
      [
        'bad checksum',
        edit((c) => {
          c.files[1].sha256 = 'xyz';
        }),
        /ckpt\/manifest.json: files\[1\]\.sha256: expected 64 lowercase hex digits/,
      ],
      [
        'bad layout',
        edit((c) => {
          c.layout.world = 5;
        }),
        /layout: world must be tp × pp × dp/,
      ],
      [
        'bad spec',
        edit((c) => {
          c.spec.norm = 'batchnorm';
        }),
        /spec\.norm:/,
      ],
      [
        'missing rank',
        edit((c) => {
          c.files.splice(2, 1);
        }),
        /files: no entry for rank 2 \(the layout 2×2×1, ZeRO 0, writes ranks 0, 1, 2, 3\)/,
      ],
      [
        'wrong name',
        edit((c) => {
          c.files[3].name = 'rank_3.safetensors';
        }),
        /files\[3\] \(rank_3.safetensors\): name should be rank_00003.safetensors/,
      ],
      [
        'wrong coord',
        edit((c) => {
          c.files[1].coord.pp = 1;
        }),
        /files\[1\] \(rank_00001.safetensors\): coord \(tp 1, pp 1, dp 0\) is not rank 1's \(tp 1, pp 0, dp 0\)/,
      ],
      [
        'duplicate',
        edit((c) => {
          c.files.push(c.files[0]);
        }),
        /files\[4\] \(rank_00000.safetensors\): rank 0 is listed twice/,
      ],
      [
        'unknown key',
        edit((c) => {
          c.colour = 'red';
        }),
        /colour/,
      ],
      [
        'other format',
        edit((c) => {
          c.format = 'deepspeed';
        }),
        /format:/,
      ],
    ];
    for (const [name, text, re] of cases) expect(() => parseManifest(text, 'ckpt/manifest.json'), name).toThrow(re);
  });
});
