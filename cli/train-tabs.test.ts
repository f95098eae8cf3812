import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planRun } from '../coordinator/planning';
import { removeTempDirs, tempDir } from '../src/node/temp-dirs';
import { CliError, planTabsRun, trainTabsCommand } from './train-tabs';

afterAll(removeTempDirs);

describe('tabtron train --tabs (planning, before any tab opens)', () => {
  it('plans configs/tiny-3d.yml as 4 ranks, TP2 × PP2', () => {
    const p = planTabsRun(['configs/tiny-3d.yml']);
    expect(p).toMatchObject({ world: 4, tp: 2, sizes: 'PP 2 × TP 2 × DP 1', trainIters: 40 });
    expect(p.sources).toHaveLength(1);
  });

  it('--max-steps shortens train_iters and keeps the learning-rate schedule of the full run', () => {
    const p = planTabsRun(['configs/tiny-3d.yml'], 5);
    expect(p.trainIters).toBe(5);
    const { config } = planRun(p.sources);
    expect(config).toMatchObject({ train_iters: 5, lr_decay_iters: 40 });
    expect(planTabsRun(['configs/tiny-3d.yml'], 400).trainIters).toBe(40);
    expect(() => planTabsRun(['configs/tiny-3d.yml'], 0)).toThrow('--max-steps must be a positive integer, got 0');
  });

  it('refuses fewer tabs than ranks, naming the layout, without starting anything', async () => {
    const t0 = performance.now();
    const err = await trainTabsCommand(['configs/tiny-3d.yml'], { tabs: 3 }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toBe(
      '--tabs 3 is fewer than the 4 ranks configs/tiny-3d.yml needs (PP 2 × TP 2 × DP 1); use --tabs 4',
    );
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('plans all three kinds of parallelism from a merged config', () => {
    const dir = tempDir('tabtron-tabs-');
    const all3 = join(dir, 'all3.yml');
    writeFileSync(all3, 'global_num_gpus: 8\n');
    expect(planTabsRun(['configs/tiny-3d.yml', all3])).toMatchObject({ world: 8, tp: 2, sizes: 'PP 2 × TP 2 × DP 2' });
  });

  it('names the file when the plan is impossible', () => {
    const dir = tempDir('tabtron-tabs-');
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, 'global_num_gpus: 6\npipe_parallel_size: 4\n');
    expect(() => planTabsRun(['configs/tiny-3d.yml', bad])).toThrow(CliError);
    expect(() => planTabsRun(['configs/tiny-3d.yml', bad])).toThrow(`configs/tiny-3d.yml + ${bad}: `);
  });
});
