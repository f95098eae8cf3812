// Fine-tuning a Hugging Face model: a TP2 × PP2 tabtron checkpoint is exported with
// `tabtron export-hf`, brought back with `tabtron import-hf`, and `tabtron train` on the NeoX
// config that import-hf wrote (its `load` is the imported checkpoint) trains it in a headless
// tab. The first step's loss (computed before any update) equals that of the same config
// loading the original checkpoint, so the weights went through HF and back unchanged.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fsCheckpointStore } from '../src/checkpoint/fs-store';
import { saveRankState } from '../src/checkpoint/save-load';
import { layoutOf, randomModel, rankStates, tinySpec } from '../src/checkpoint/test-fixtures';
import { removeTempDirs, tempDir } from '../src/node/temp-dirs';

const tabtron = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/tabtron.mjs', ...args], { encoding: 'utf8', timeout: 280_000 });

afterAll(removeTempDirs);

describe('tabtron import-hf → train (fine-tuning)', () => {
  it('trains the imported model from its weights', async () => {
    const dir = tempDir('tabtron-finetune-');
    const spec = tinySpec({
      V: 256,
      C: 32,
      H: 4,
      hd: 8,
      F: 64,
      L: 2,
      T: 32,
      maxPos: 32,
      posEmb: 'rotary',
      rotaryDims: 8,
    });
    const model = randomModel(spec, 4);
    for (const f of model.values()) for (let i = 0; i < f.param.length; i++) f.param[i] *= 0.2;
    const layout = layoutOf(2, 2, 1);
    for (const s of rankStates(spec, model, layout, 0))
      await saveRankState(fsCheckpointStore(join(dir, 'orig')), 0, spec, layout, s);
    expect(tabtron('export-hf', join(dir, 'orig'), '--out', join(dir, 'hf')).status).toBe(0);
    writeFileSync(
      join(dir, 'extra.yml'),
      'train-iters: 2\ntrain_micro_batch_size_per_gpu: 2\neval-interval: 1\neval-iters: 1\nsample_tokens: 0\n',
    );
    const imp = tabtron('import-hf', join(dir, 'hf'), '--out', join(dir, 'ft'), '--config', join(dir, 'extra.yml'));
    expect(imp.status, imp.stderr).toBe(0);
    const run = (config: string) => {
      const r = tabtron('train', config, '--max-steps', '1', '--json', '--quiet');
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').pop()!);
    };
    const imported = run(join(dir, 'ft', 'neox.yml'));
    const origConfig = join(dir, 'orig.yml');
    writeFileSync(
      origConfig,
      readFileSync(join(dir, 'ft', 'neox.yml'), 'utf8').replace(/^load: .*$/m, `load: ${join(dir, 'orig')}`),
    );
    const original = run(origConfig);
    expect(imported.steps).toBe(1);
    expect(imported.final_train_loss).toBeGreaterThan(0);
    expect(Math.abs(imported.final_train_loss - original.final_train_loss)).toBeLessThan(
      1e-6 * original.final_train_loss,
    );
  });
});
