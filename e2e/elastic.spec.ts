// Elastic training: ranks that close, reload or join mid-run, and a run that shrinks to the
// replicas it can fill and grows back. The ranks run in one worker over loopback transports
// (WebGPU in headless Chromium), driven by the coordinator's planner; every step's loss must
// equal the uninterrupted run's. The same protocol over real tabs and WebRTC is in
// e2e/churn.spec.ts.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-files';
import type { ElasticResult, ElasticScenario, Injection } from './pages/elastic-harness';
import { useGpuTestPage } from './gpu-page';

const gpu = useGpuTestPage();
const STEPS = 10;
const tiny = {
  seq_length: 32,
  hidden_size: 32,
  num_layers: 2,
  train_micro_batch_size_per_gpu: 2,
  gradient_accumulation_steps: 2,
  eval_interval: 5,
  eval_iters: 2,
  train_iters: STEPS,
  lr_decay_iters: STEPS,
  warmup: 0.2,
  hidden_dropout: 0.1,
  attention_dropout: 0.1,
};

async function run(
  settings: Record<string, unknown>,
  world: number,
  scenario: Partial<ElasticScenario>,
): Promise<ElasticResult> {
  const cfg = loadConfig(['configs/tiny.yml'], { ...tiny, ...settings }).config;
  const sc: ElasticScenario = {
    world,
    standbys: 0,
    injections: [],
    checkpointEvery: 0,
    snapshotInterval: 1,
    maxSteps: STEPS,
    ...scenario,
  };
  return gpu.page.evaluate(([c, s]) => (window as any).gpuTests.elastic(c, s), [cfg, sc] as const);
}

function worstRelDiff(got: number[], want: number[]): number {
  expect(got).toHaveLength(STEPS);
  return Math.max(...got.map((l, i) => Math.abs(l - want[i]) / Math.abs(want[i])));
}

const PP2DP2 = { pipe_parallel_size: 2, model_parallel_size: 1 };
const TP2PP2 = { pipe_parallel_size: 2, model_parallel_size: 2 };
const close = (rank: number, step: number, op = 2): Injection => ({ kind: 'close', rank, step, op });

describe('elastic PP2×DP2', () => {
  let reference: number[];
  it('runs uninterrupted in one generation', async () => {
    const r = await run(PP2DP2, 4, {});
    expect(r.generations).toHaveLength(1);
    expect(r.generations[0].restoredFrom).toBe('init');
    reference = r.losses;
    expect(reference).toHaveLength(STEPS);
  });

  it('a rank closes mid-step, the standby takes it with its replica peer state: no rollback, same losses', async () => {
    const r = await run(PP2DP2, 4, { standbys: 1, injections: [close(3, 4)] });
    expect(r.generations).toHaveLength(2);
    const g = r.generations[1];
    expect(g.restoredFrom).toBe('dp-peer');
    expect(g.sources).toContain('3:dp-peer');
    expect(g.committed - g.step).toBe(0);
    expect(worstRelDiff(r.losses, reference)).toBeLessThanOrEqual(1e-6);
  });

  it('without a standby it shrinks to one replica (accumulation doubled) and grows back when a tab joins', async () => {
    const r = await run(PP2DP2, 4, { injections: [close(1, 3), { kind: 'join', step: 6 }] });
    expect(r.generations.map((g) => g.layout.dp)).toEqual([2, 1, 2]);
    expect(r.generations[1].layout.accum).toBe(4);
    expect(r.generations[1].restoredFrom).toBe('none');
    expect(r.generations[2].restoredFrom).toBe('dp-peer');
    for (const g of r.generations.slice(1)) expect(g.committed - g.step).toBe(0);
    expect(worstRelDiff(r.losses, reference)).toBeLessThanOrEqual(1e-6);
  });
});

describe('elastic TP2×PP2 (no replicas)', () => {
  let reference: number[];
  it('runs uninterrupted', async () => {
    reference = (await run(TP2PP2, 4, { checkpointEvery: 2 })).losses;
  });

  it('a lost rank comes back from the newest checkpoint, a reloaded one from its own snapshot', async () => {
    const r = await run(TP2PP2, 4, {
      standbys: 1,
      checkpointEvery: 2,
      injections: [close(3, 5), { kind: 'reload', rank: 1, step: 8, op: 3 }],
    });
    expect(r.generations).toHaveLength(3);
    const [, lost, reloaded] = r.generations;
    expect(lost.restoredFrom).toBe('checkpoint');
    expect(lost.step).toBe(4);
    expect(reloaded.restoredFrom).toBe('local');
    expect(reloaded.sources).toContain('1:local');
    expect(worstRelDiff(r.losses, reference)).toBeLessThanOrEqual(1e-6);
  });
});

describe('elastic TP2×DP2 with ZeRO-1', () => {
  it("a lost rank's optimizer shard exists nowhere else: the run rolls back to the checkpoint, same losses", async () => {
    const settings = { model_parallel_size: 2, pipe_parallel_size: 0, zero_optimization: { stage: 1 } };
    const reference = (await run(settings, 4, { checkpointEvery: 3 })).losses;
    const r = await run(settings, 4, { standbys: 1, checkpointEvery: 3, injections: [close(2, 5)] });
    expect(r.generations[1].restoredFrom).toBe('checkpoint');
    expect(r.generations[1].step).toBe(3);
    expect(worstRelDiff(r.losses, reference)).toBeLessThanOrEqual(1e-6);
  });
});

describe('elastic DP2 with ZeRO-3', () => {
  it("a lost rank's parameter shard exists nowhere else: back to the checkpoint; a reload uses its own", async () => {
    const settings = { model_parallel_size: 1, pipe_parallel_size: 0, zero_optimization: { stage: 3 } };
    const reference = (await run(settings, 2, { checkpointEvery: 3 })).losses;
    const r = await run(settings, 2, {
      standbys: 1,
      checkpointEvery: 3,
      injections: [close(1, 5), { kind: 'reload', rank: 0, step: 8, op: 3 }],
    });
    const [, lost, reloaded] = r.generations;
    expect(lost.restoredFrom).toBe('checkpoint');
    expect(lost.step).toBe(3);
    expect(reloaded.restoredFrom).toBe('local');
    expect(reloaded.sources).toContain('0:local');
    expect(worstRelDiff(r.losses, reference)).toBeLessThanOrEqual(1e-6);
  });
});
