// `tabtron checkpoint inspect|merge` in a child process, on checkpoint directories written by
// the filesystem store from a synthetic TP2 × PP2 model.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsCheckpointStore } from '../src/checkpoint/fs-store';
import { decodeRankFile, rankStateOf } from '../src/checkpoint/rank-file';
import { loadFromStore, saveRankState } from '../src/checkpoint/save-load';
import { bits, flatOf, layoutOf, randomModel, rankStates, stagesOf, tinySpec } from '../src/checkpoint/test-fixtures';
import { fullModel } from '../src/model/params';
import { removeTempDirs, tempDir } from '../src/node/temp-dirs';

const root = join(import.meta.dirname, '..');
const tabtron = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/tabtron.mjs', 'checkpoint', ...args], { cwd: root, encoding: 'utf8' });
const spec = tinySpec({ tied: false, posEmb: 'rotary', rotaryDims: 4 }),
  model = randomModel(spec);
const layout = layoutOf(2, 2, 1);

async function checkpointDir(iterations = [10]): Promise<string> {
  const dir = tempDir('tabtron-cli-ckpt-');
  const store = fsCheckpointStore(dir);
  for (const it of iterations)
    for (const s of rankStates(spec, model, layout, it)) await saveRankState(store, it, spec, layout, s);
  return dir;
}

afterAll(removeTempDirs);

describe('tabtron checkpoint', () => {
  it('inspect prints the manifest summary and verifies every checksum; a corrupted file fails naming it', async () => {
    const dir = await checkpointDir([10, 20]);
    const ok = tabtron('inspect', dir);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('iteration 20 (step 20');
    expect(ok.stdout).toContain('layout: TP 2 × PP 2 × DP 1 = 4 ranks, ZeRO stage 0');
    expect(ok.stdout).toContain('model: V 64, C 16, L 4, H 4, F 64, layernorm, rotary positions, untied embeddings');
    expect(ok.stdout).toMatch(
      /rank_00003\.safetensors {2}rank 3 \(tp 1, pp 1, dp 0\) {2}layers \[2, 4\) \+head {2}params \+ adam {2}\d+ B {2}sha256 ok/,
    );
    expect(ok.stdout).toContain('all 4 checksums ok');
    const older = JSON.parse(tabtron('inspect', dir, '--iteration', '10', '--json').stdout);
    expect(older).toMatchObject({ ok: true, manifest: { iteration: 10, step: 10 } });
    expect(tabtron('inspect', join(dir, 'iter_0000010')).stdout).toContain('iteration 10 (step 10');

    const victim = join(dir, 'iter_0000020', 'rank_00002.safetensors');
    const bytes = readFileSync(victim);
    bytes[bytes.length - 1] ^= 1;
    writeFileSync(victim, bytes);
    const bad = tabtron('inspect', dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/rank_00002\.safetensors .* BAD: sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}/);
    expect(bad.stdout).toContain('1 of 4 files failed: rank_00002.safetensors');
    expect(bad.stderr).toMatch(/^tabtron: checkpoint .* iteration 20: rank_00002\.safetensors \(rank 2\): sha256 /);

    const missing = tabtron('inspect', dir, '--iteration', '30');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/iteration 30 has no complete checkpoint \(complete: 10, 20\)/);
  });

  it('merge writes one rank file of full tensors that loads back as a 1-rank checkpoint', async () => {
    const dir = await checkpointDir();
    const out = join(tempDir('tabtron-merged-'), 'model.safetensors');
    const outDir = tempDir('tabtron-merged-dir-');
    const r = tabtron('merge', dir, '--out', out, '--out-dir', outDir);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /merged iteration 10 \(TP 2 × PP 2 × DP 1 = 4 ranks, ZeRO stage 0\) into .*model\.safetensors and .* \(1-rank checkpoint\)/,
    );

    const d = decodeRankFile(new Uint8Array(readFileSync(out)), out);
    expect(d.header.tensors).toContain('param/layers.3.attn.qkv.weight');
    expect(d.header.tensors).toContain('adam.v/head.weight');
    expect(d.header.layout).toEqual(layoutOf(1, 1, 1));
    const state = rankStateOf(d, out);
    const want = flatOf(spec, model, fullModel(spec), 1, 0);
    expect(bits(state.params)).toEqual(bits(want.params));
    expect(bits(state.m)).toEqual(bits(want.m));

    expect(tabtron('inspect', outDir).stdout).toContain('all 1 checksums ok');
    const stage = stagesOf(spec, 2)[0];
    const back = await loadFromStore(fsCheckpointStore(outDir, { readOnly: true }), {
      spec,
      stage,
      tp: { size: 2, rank: 1 },
    });
    expect(bits(back.params)).toEqual(bits(flatOf(spec, model, stage, 2, 1).params));

    const none = tabtron('merge', dir);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('tabtron: checkpoint merge: give --out <file.safetensors> and/or --out-dir <dir>');
  });
});
