// Save a synthetic model from one layout, load it into others: every target rank's params and
// moment range must be bit-exact the shards that layout would hold of the same full model.

import { describe, expect, it } from 'vitest';
import { fullModel } from '../model/params';
import type { ModelSpec } from '../model/spec';
import { NO_TP, vocabRange } from '../model/tp-shard';
import { coordOf } from '../parallel/grid';
import { CheckpointReader } from './assemble';
import type { CheckpointLayout } from './layout';
import { MemoryBackend } from './memory-store';
import { mergeCheckpoint } from './merge';
import { checkCompatible, loadRankState, type ReshardTarget } from './reshard';
import { openCheckpoint, saveRankState } from './save-load';
import { CheckpointWriter } from './store';
import {
  bits,
  cutRange,
  flatOf,
  layoutOf,
  randomModel,
  rankStates,
  stagesOf,
  tinySpec,
  zeroRange,
  type FullState,
} from './test-fixtures';

async function saved(
  spec: ModelSpec,
  model: Map<string, FullState>,
  layout: CheckpointLayout,
  edit?: (s: ReturnType<typeof rankStates>) => void,
  virtualChunks = 1,
) {
  const backend = new MemoryBackend();
  const store = new CheckpointWriter(backend);
  const states = rankStates(spec, model, layout, 10, virtualChunks);
  edit?.(states);
  for (const s of states) await saveRankState(store, 10, spec, layout, s);
  const { manifest, readFile } = await openCheckpoint(store);
  return { backend, store, manifest, readFile };
}

/** Every rank of `target` loads and equals flatOf(...) cut to its optRange. */
async function expectLoads(
  src: Awaited<ReturnType<typeof saved>>,
  spec: ModelSpec,
  model: Map<string, FullState>,
  target: CheckpointLayout,
  virtualChunks = 1,
) {
  const stages = stagesOf(spec, target.pp, virtualChunks);
  for (let rank = 0; rank < target.world; rank++) {
    const c = coordOf(target, rank);
    const want = flatOf(spec, model, stages[c.pp], target.tp, c.tp);
    const optRange = target.zeroStage ? zeroRange(want.layout.total, target.dp, c.dp) : undefined;
    const got = await loadRankState(src.manifest, src.readFile, {
      spec,
      stage: stages[c.pp],
      tp: { size: target.tp, rank: c.tp },
      optRange,
    });
    const r = optRange ?? { start: 0, end: want.layout.total };
    expect(got.step).toBe(10);
    expect(got.optRange).toEqual(r);
    expect(bits(got.params), `params of rank ${rank}`).toEqual(bits(want.params));
    expect(bits(got.m), `m of rank ${rank}`).toEqual(bits(cutRange(want.m, r)));
    expect(bits(got.v), `v of rank ${rank}`).toEqual(bits(cutRange(want.v, r)));
  }
}

const SPECS: [string, ModelSpec][] = [
  ['learned positions, tied', tinySpec()],
  ['rotary, untied, rmsnorm', tinySpec({ posEmb: 'rotary', rotaryDims: 4, tied: false, norm: 'rmsnorm' })],
];
const SOURCES: [string, CheckpointLayout][] = [
  ['TP2×PP2', layoutOf(2, 2, 1)],
  ['TP2×DP2 ZeRO-1', layoutOf(2, 1, 2, 1)],
  ['PP2×DP2 ZeRO-1', layoutOf(1, 2, 2, 1)],
];
const TARGETS: [string, CheckpointLayout][] = [
  ['1 rank', layoutOf(1, 1, 1)],
  ['TP4', layoutOf(4, 1, 1)],
  ['PP2×TP1', layoutOf(1, 2, 1)],
  ['TP2×PP4', layoutOf(2, 4, 1)],
  ['ZeRO DP4', layoutOf(1, 1, 4, 1)],
  ['TP2×PP2×DP2 ZeRO-1', layoutOf(2, 2, 2, 1)],
  ['PP3 (uneven stages)', layoutOf(1, 3, 1)],
];

describe('any layout loads any other layout', () => {
  for (const [specName, spec] of SPECS) {
    const model = randomModel(spec);
    for (const [srcName, srcLayout] of SOURCES) {
      it(`${specName}: saved from ${srcName}, loaded into ${TARGETS.map((t) => t[0]).join(', ')}`, async () => {
        const src = await saved(spec, model, srcLayout);
        expect(src.manifest.files.map((f) => f.name)).toHaveLength(
          srcLayout.zeroStage ? srcLayout.world : srcLayout.tp * srcLayout.pp,
        );
        for (const [, target] of TARGETS) await expectLoads(src, spec, model, target);
      });
    }
  }

  // interleaved 1F1B: a rank holds layers of several chunks (L 4, PP2 × 2 chunks: layers 0, 2 | 1, 3)
  it('an interleaved layout (PP2 × 2 chunks, TP2) saves and loads like any other', async () => {
    for (const [, spec] of SPECS) {
      const model = randomModel(spec);
      const interleaved = layoutOf(2, 2, 1);
      const src = await saved(spec, model, interleaved, undefined, 2);
      expect(src.manifest.files.map((f) => f.stage.chunks)).toEqual([
        [
          [0, 1],
          [2, 3],
        ],
        [
          [0, 1],
          [2, 3],
        ],
        [
          [1, 2],
          [3, 4],
        ],
        [
          [1, 2],
          [3, 4],
        ],
      ]);
      for (const [, target] of TARGETS) await expectLoads(src, spec, model, target);
      for (const [, source] of SOURCES)
        await expectLoads(await saved(spec, model, source), spec, model, interleaved, 2);
      await expectLoads(src, spec, model, layoutOf(1, 2, 2, 1), 2);
    }
  });

  it("merging takes the first stage's embed.wte, not the tied copy on the last stage", async () => {
    const spec = tinySpec(),
      model = randomModel(spec);
    const src = await saved(spec, model, layoutOf(1, 2, 1), (states) => {
      const last = states[1];
      expect(last.stage.hasHead).toBe(true);
      last.params.fill(999, 0, spec.V * spec.C); // embed.wte is the first slot of the last stage's layout
    });
    const merged = await mergeCheckpoint(src.manifest, src.readFile);
    const want = flatOf(spec, model, fullModel(spec), 1, 0);
    expect(bits(merged.state.params)).toEqual(bits(want.params));
    expect(bits(merged.state.m)).toEqual(bits(want.m));
  });

  it('a merged checkpoint is a 1-rank checkpoint that loads back into any layout', async () => {
    const spec = SPECS[1][1],
      model = randomModel(spec);
    const src = await saved(spec, model, layoutOf(2, 2, 2, 1));
    const merged = await mergeCheckpoint(src.manifest, src.readFile);
    const again = new CheckpointWriter(new MemoryBackend());
    await saveRankState(again, 10, merged.spec, merged.layout, merged.state);
    const one = await openCheckpoint(again);
    expect(one.manifest.layout).toEqual(layoutOf(1, 1, 1));
    expect(one.manifest.files[0].tensors).toContain('param/head.weight');
    await expectLoads({ ...src, ...one }, spec, model, layoutOf(2, 2, 1));
  });
});

describe('fetches only what the target needs', () => {
  const spec = tinySpec({ tied: false }),
    model = randomModel(spec);
  const stages = stagesOf(spec, 2);

  it('a pipeline stage reads only the files of the source stage that holds its layers', async () => {
    const src = await saved(spec, model, layoutOf(2, 2, 1)); // ranks 0,1: stage 0; ranks 2,3: stage 1
    const last = await loadRankState(src.manifest, src.readFile, { spec, stage: stages[1], tp: NO_TP });
    expect(last.fetched.sort()).toEqual(['rank_00002.safetensors', 'rank_00003.safetensors']);
    const first = await loadRankState(src.manifest, src.readFile, { spec, stage: stages[0], tp: { size: 2, rank: 1 } });
    expect(first.fetched.sort()).toEqual(['rank_00000.safetensors', 'rank_00001.safetensors']);
  });

  it("tied embeddings: a last-stage target reads the last stage's own embed.wte copy, not the first stage's files", async () => {
    const tied = tinySpec(),
      tiedModel = randomModel(tied);
    const src = await saved(tied, tiedModel, layoutOf(2, 2, 1));
    const got = await loadRankState(src.manifest, src.readFile, { spec: tied, stage: stages[1], tp: NO_TP });
    expect(got.fetched.sort()).toEqual(['rank_00002.safetensors', 'rank_00003.safetensors']);
    expect(bits(got.params)).toEqual(bits(flatOf(tied, tiedModel, stages[1], 1, 0).params));
  });

  it('with ZeRO: parameters alone come from dp 0; moments add the DP shards that cover the slots', async () => {
    const src = await saved(spec, model, layoutOf(1, 2, 2, 1)); // stage 1: ranks 2 (dp 0), 3 (dp 1)
    const paramsOnly = await loadRankState(src.manifest, src.readFile, {
      spec,
      stage: stages[1],
      tp: NO_TP,
      moments: false,
    });
    expect(paramsOnly.fetched).toEqual(['rank_00002.safetensors']);
    expect(paramsOnly.m.every((x) => x === 0)).toBe(true);
    const reader = new CheckpointReader(src.manifest, src.readFile);
    const layout = flatOf(spec, model, stages[1], 1, 0).layout;
    const split = zeroRange(layout.total, 2, 1).start; // where dp 1's shard begins
    const inside = (lo: number, hi: number) =>
      layout.slots.find((s) => s.offset >= lo && s.offset + s.length <= hi)!.name;
    const across = layout.slots.find((s) => s.offset < split && s.offset + s.length > split)!.name;
    const names = (n: string) => reader.filesFor([n]).map((f) => f.name);
    expect(names(inside(0, split))).toEqual(['rank_00002.safetensors']);
    expect(names(inside(split, layout.total))).toEqual(['rank_00002.safetensors', 'rank_00003.safetensors']);
    expect(names(across)).toEqual(['rank_00002.safetensors', 'rank_00003.safetensors']);
    expect(reader.filesFor([inside(split, layout.total)], false).map((f) => f.name)).toEqual([
      'rank_00002.safetensors',
    ]);
  });
});

describe('vocabulary padding that differs between layouts', () => {
  const spec = tinySpec({ tied: false }),
    model = randomModel(spec);

  it('rows only the target has keep its fresh init and get zero moments; common rows are copied', async () => {
    const src = await saved(spec, model, layoutOf(2, 1, 1));
    const big = { ...spec, V: 128 };
    for (const tpRank of [0, 1]) {
      const target: ReshardTarget = { spec: big, stage: fullModel(big), tp: { size: 2, rank: tpRank } };
      const layout = flatOf(big, randomModel(big, 99), target.stage, 2, tpRank);
      const init = layout.params;
      const got = await loadRankState(src.manifest, src.readFile, { ...target, init });
      const wantSmall = flatOf(spec, model, fullModel(spec), 1, 0);
      const { start, count } = vocabRange(128, target.tp);
      for (const name of ['embed.wte', 'head.weight']) {
        const slot = layout.layout.byName.get(name)!,
          small = wantSmall.layout.byName.get(name)!;
        for (let r = 0; r < count; r++) {
          const g = start + r,
            at = slot.offset + r * 16;
          const row = (a: Float32Array, o: number) => Array.from(a.subarray(o, o + 16));
          if (g < 64) {
            expect(row(got.params, at)).toEqual(row(wantSmall.params, small.offset + g * 16));
            expect(row(got.v, at)).toEqual(row(wantSmall.v, small.offset + g * 16));
          } else {
            expect(row(got.params, at)).toEqual(row(init, at));
            expect(row(got.m, at).every((x) => x === 0) && row(got.v, at).every((x) => x === 0)).toBe(true);
          }
        }
      }
      // every other tensor is the ordinary shard (at its own offset in the bigger layout)
      const same = flatOf(spec, model, fullModel(spec), 2, tpRank);
      for (const name of ['layers.1.attn.dense.weight', 'layers.3.mlp.up.bias', 'embed.wpe']) {
        const a = layout.layout.byName.get(name)!,
          b = same.layout.byName.get(name)!;
        expect(bits(got.params.subarray(a.offset, a.offset + a.length)), name).toEqual(
          bits(same.params.subarray(b.offset, b.offset + b.length)),
        );
        expect(bits(got.m.subarray(a.offset, a.offset + a.length)), name).toEqual(
          bits(same.m.subarray(b.offset, b.offset + b.length)),
        );
      }
    }
  });

  it('rows only the checkpoint has (its padding) are dropped', async () => {
    const src = await saved(spec, model, layoutOf(1, 1, 1));
    const small = { ...spec, V: 48 };
    const got = await loadRankState(src.manifest, src.readFile, {
      spec: small,
      stage: fullModel(small),
      tp: { size: 2, rank: 1 },
    });
    const full = flatOf(spec, model, fullModel(spec), 1, 0);
    const slot = got.layout.byName.get('head.weight')!,
      srcSlot = full.layout.byName.get('head.weight')!;
    expect(slot.shape).toEqual([24, 16]);
    expect(bits(got.params.subarray(slot.offset, slot.offset + slot.length))).toEqual(
      bits(full.params.subarray(srcSlot.offset + 24 * 16, srcSlot.offset + 48 * 16)),
    );
  });
});

describe('failures name what is at fault', () => {
  const spec = tinySpec(),
    model = randomModel(spec);
  const one = (s: ModelSpec): ReshardTarget => ({ spec: s, stage: fullModel(s), tp: NO_TP });

  it('a corrupted file: its name, rank and both checksums', async () => {
    const src = await saved(spec, model, layoutOf(2, 2, 1));
    const bytes = src.backend.files.get('10/rank_00001.safetensors')!;
    bytes[bytes.length - 3] ^= 0x40;
    await expect(loadRankState(src.manifest, src.readFile, one(spec))).rejects.toThrow(
      /rank_00001\.safetensors \(rank 1\): sha256 [0-9a-f]{64} does not match the manifest's [0-9a-f]{64}/,
    );
  });

  it('a truncated file: its size against the manifest', async () => {
    const src = await saved(spec, model, layoutOf(2, 2, 1));
    src.backend.files.set(
      '10/rank_00003.safetensors',
      src.backend.files.get('10/rank_00003.safetensors')!.subarray(0, 100),
    );
    await expect(loadRankState(src.manifest, src.readFile, one(spec))).rejects.toThrow(
      /rank_00003\.safetensors \(rank 3\): 100 bytes, the manifest says \d+/,
    );
  });

  it('a missing file', async () => {
    const src = await saved(spec, model, layoutOf(2, 2, 1));
    src.backend.files.delete('10/rank_00002.safetensors');
    await expect(loadRankState(src.manifest, src.readFile, one(spec))).rejects.toThrow(
      /rank_00002\.safetensors \(rank 2\) could not be read: .*rank_00002\.safetensors is listed in the manifest but missing/,
    );
  });

  it('an incompatible model: the tensor and both shapes', async () => {
    const src = await saved(spec, model, layoutOf(1, 1, 1));
    const load = (o: Partial<ModelSpec>) => loadRankState(src.manifest, src.readFile, one({ ...spec, ...o }));
    await expect(load({ C: 32, hd: 8 })).rejects.toThrow(
      /tensor embed\.wte: checkpoint shape \[64, 16\], target shape \[64, 32\]/,
    );
    await expect(load({ F: 32 })).rejects.toThrow(
      /tensor layers\.0\.mlp\.up\.weight: checkpoint shape \[64, 16\], target shape \[32, 16\]/,
    );
    await expect(load({ L: 6 })).rejects.toThrow(
      /tensor layers\.4\.ln1\.weight: target shape \[16\], the checkpoint has no such tensor/,
    );
    await expect(load({ L: 2 })).rejects.toThrow(
      /tensor layers\.2\.ln1\.weight: checkpoint shape \[16\], the target has no such tensor/,
    );
    await expect(load({ tied: false })).rejects.toThrow(
      /tensor head\.weight: target shape \[64, 16\], the checkpoint has no such tensor/,
    );
    await expect(load({ posEmb: 'rotary' })).rejects.toThrow(
      /tensor embed\.wpe: checkpoint shape \[8, 16\], the target has no such tensor/,
    );
    await expect(load({ H: 2, hd: 8 })).rejects.toThrow(/attention heads: checkpoint H=4, target H=2/);
    expect(() => checkCompatible(spec, { ...spec, V: 256, T: 4, seed: 3, hiddenDropout: 0.1 })).not.toThrow();
  });
});
