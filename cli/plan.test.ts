import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceConfigsDir } from '../src/config/reference-configs-dir';
import { runPlan } from './plan';

const REF = referenceConfigsDir();
const ref = (...names: string[]) => names.map((n) => join(REF, n));
const json = (paths: string[], world?: number) => JSON.parse(runPlan(paths, { world, json: true }));

// Every reference config with a world size that fits it; the two partial configs are merged
// with a model config as NeoX uses them.
const CASES: { files: string[]; world?: number; expect: Record<string, unknown> }[] = [
  { files: ['125M.yml'], world: 8, expect: { tp: 1, pp: 1, dp: 8, train_batch_size: 32, padded_vocab_size: 50304 } },
  { files: ['19M.yml'], world: 4, expect: { tp: 1, pp: 1, dp: 4, train_batch_size: 16 } },
  {
    files: ['20B.yml'],
    world: 96,
    expect: { tp: 2, pp: 4, dp: 12, train_batch_size: 1536, gradient_accumulation_steps: 32, padded_vocab_size: 50432 },
  },
  { files: ['350M.yml'], world: 2, expect: { tp: 1, pp: 1, dp: 2 } },
  { files: ['49M.yml'], world: 1, expect: { tp: 1, pp: 1, dp: 1, train_batch_size: 32 } },
  { files: ['pythia/14M.yml'], world: 8, expect: { pp: 1, dp: 8, pipeline_engine: false, padded_vocab_size: 50304 } },
  { files: ['pythia/31M.yml'], world: 8, expect: { pp: 1, dp: 8, pipeline_engine: false } },
  { files: ['pythia/70M.yml'], world: 8, expect: { pp: 1, dp: 8, total_params: 70_426_624 } },
  { files: ['pythia/160M.yml'], world: 8, expect: { pp: 1, dp: 8, total_params: 162_322_944 } },
  { files: ['pythia/410M.yml'], world: 8, expect: { pp: 1, dp: 8, total_params: 405_334_016 } },
  { files: ['19M.yml', 'cpu_mock_config.yml'], expect: { world: 1, dp: 1 } },
  { files: ['125M.yml', 'local_setup.yml'], world: 2, expect: { dp: 2 } },
];

describe('tabtron plan', () => {
  for (const c of CASES) {
    it(`plans ${c.files.join(' + ')}${c.world ? ` on ${c.world} ranks` : ''}`, () => {
      const plan = json(ref(...c.files), c.world);
      expect(plan).toMatchObject(c.expect);
      expect(plan.groups.tp.length * plan.tp).toBe(plan.world);
      expect(plan.stages).toHaveLength(plan.pp);
      expect(plan.schedule).toHaveLength(plan.pp);
      expect(plan.schedule[0].ops).toHaveLength(2 * plan.gradient_accumulation_steps);
    });
  }

  it('splits GPT-NeoX-20B into 4 stages of 11 layers with Megatron rank order', () => {
    const plan = json(ref('20B.yml'), 96);
    expect(plan.stages.map((s: { layers: number[] }) => s.layers)).toEqual([
      [0, 11],
      [11, 22],
      [22, 33],
      [33, 44],
    ]);
    expect(plan.groups.pp[0]).toEqual([0, 24, 48, 72]);
    expect(plan.groups.dp[0]).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22]);
    expect(plan.ranks[73]).toEqual({ rank: 73, tp: 1, pp: 3, dp: 0 });
    expect(plan.schedule[0].ops.slice(0, 6)).toEqual(['F0', 'F1', 'F2', 'F3', 'B0', 'F4']);
  });

  it('prints text with the grid, groups, stages and schedules', () => {
    const text = runPlan(ref('20B.yml'), { world: 16 });
    expect(text).toContain('plan: 16 ranks = TP 2 × PP 4 × DP 2');
    expect(text).toContain('PP (4): [0,4,8,12] [1,5,9,13] [2,6,10,14] [3,7,11,15]');
    expect(text).toContain('DP (8): [0,2] [1,3] [4,6] [5,7] [8,10] [9,11] [12,14] [13,15]');
    expect(text).toMatch(/│\s+12 13\s+│/);
    expect(text).toContain('F0 sa0→1 F1 sa1→1');
  });

  it('fails clearly when the world does not fit', () => {
    expect(() => runPlan(ref('20B.yml'), { world: 36 })).toThrow(
      'world size 36 is not divisible by pipe_parallel_size 4 × model_parallel_size 2 = 8',
    );
    expect(() => runPlan(ref('125M.yml'), {})).toThrow(
      'the world size is unknown: pass --world N or set global_num_gpus',
    );
  });

  it('runs through `npx tabtron` from the repository root', () => {
    const root = join(import.meta.dirname, '..');
    const ok = spawnSync('npx', ['tabtron', 'plan', ...ref('20B.yml'), '--world', '96', '--json'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ world: 96, tp: 2, pp: 4, dp: 12 });
    const bad = spawnSync('npx', ['tabtron', 'plan', ...ref('20B.yml'), '--world', '36'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(
      'tabtron: world size 36 is not divisible by pipe_parallel_size 4 × model_parallel_size 2 = 8',
    );
    expect(bad.stdout).toBe('');
  });
});
