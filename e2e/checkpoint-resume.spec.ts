// Save at step k in one layout, load in another, continue: the same losses as never stopping.
// TP2×PP2 trains 15 steps and saves every 5; DP2 with ZeRO-1 loads its step-5 checkpoint and
// trains steps 6–10 (saving again); one rank loads that and trains 11–15. Both continuations
// must repeat the uninterrupted run's losses (1e-4 relative; only summation order differs).
// WebGPU in headless Chromium, the ranks of a layout in one worker over the loopback
// transport, checkpoints in memory stores that outlive a run (the coordinator's HTTP store
// and its files are tested in coordinator/checkpoints.test.ts and e2e/multitab-checkpoint.spec.ts).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-files';
import type { TrainEvent } from '../src/train/events';
import type { LayoutCheckpoints } from './pages/gpu-tests.worker';
import { useGpuTestPage } from './gpu-page';

const gpu = useGpuTestPage();
const ITERS = 15;
const tiny = {
  seq_length: 32,
  hidden_size: 32,
  num_layers: 2,
  train_micro_batch_size_per_gpu: 2,
  eval_interval: 5,
  eval_iters: 2,
  train_iters: ITERS,
  lr_decay_iters: ITERS,
  warmup: 0.2,
};

const steps = (events: TrainEvent[]) =>
  events.filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step');
const checkpointEvents = (events: TrainEvent[]) =>
  events.filter((e): e is Extract<TrainEvent, { kind: 'checkpoint' }> => e.kind === 'checkpoint');

async function run(
  world: number,
  settings: Record<string, unknown>,
  maxSteps: number,
  ck: LayoutCheckpoints,
): Promise<TrainEvent[][]> {
  const cfg = loadConfig(['configs/tiny.yml'], { ...tiny, ...settings }).config;
  return gpu.page.evaluate(([c, w, n, k]) => (window as any).gpuTests.trainLayout(c, w, n, k), [
    cfg,
    world,
    maxSteps,
    ck,
  ] as const);
}

describe('checkpoints: save in one layout, load in another, continue', () => {
  it('TP2×PP2 → DP2 ZeRO-1 → one rank repeats the uninterrupted losses', async () => {
    // the uninterrupted run: TP2×PP2, global batch 2 × 2 micro-batches
    const whole = await run(
      4,
      { model_parallel_size: 2, pipe_parallel_size: 2, gradient_accumulation_steps: 2 },
      ITERS,
      { save: 'tp2pp2', every: 5 },
    );
    const want = steps(whole[0]).map((e) => e.loss);
    expect(want).toHaveLength(ITERS);
    const saved = await gpu.page.evaluate(() => (window as any).gpuTests.checkpointFiles('tp2pp2'));
    expect(saved.iterations).toEqual([5, 10, 15]);
    expect(saved.files).toEqual([
      'rank_00000.safetensors',
      'rank_00001.safetensors',
      'rank_00002.safetensors',
      'rank_00003.safetensors',
    ]);
    expect(
      checkpointEvents(whole[0])
        .filter((e) => e.action === 'saved')
        .map((e) => e.step),
    ).toEqual([5, 10, 15]);

    // a fresh store holding only step 5: DP2 × ZeRO-1 (same global batch: 2 × 1 × 2 replicas) loads it
    await run(4, { model_parallel_size: 2, pipe_parallel_size: 2, gradient_accumulation_steps: 2 }, 5, {
      save: 'at5',
      every: 5,
    });
    const dp = await run(2, { gradient_accumulation_steps: 1, zero_optimization: { stage: 1 } }, 10, {
      load: 'at5',
      save: 'zero',
      every: 5,
    });
    for (const events of dp) {
      expect(checkpointEvents(events)[0]).toMatchObject({ action: 'loaded', step: 5, iteration: 5 });
      const got = steps(events);
      expect(got.map((e) => e.step)).toEqual([6, 7, 8, 9, 10]);
      got.forEach((e) =>
        expect(
          Math.abs(e.loss - want[e.step - 1]) / want[e.step - 1],
          `DP2 ZeRO step ${e.step}: ${e.loss} vs ${want[e.step - 1]}`,
        ).toBeLessThanOrEqual(1e-4),
      );
    }
    const zeroFiles = await gpu.page.evaluate(() => (window as any).gpuTests.checkpointFiles('zero'));
    expect(zeroFiles).toEqual({ iterations: [10], files: ['rank_00000.safetensors', 'rank_00001.safetensors'] }); // ZeRO: every replica writes its moments

    // one rank (2 × 2 micro-batches) loads the ZeRO checkpoint and finishes
    const one = await run(1, { gradient_accumulation_steps: 2 }, ITERS, { load: 'zero' });
    expect(checkpointEvents(one[0])[0]).toMatchObject({ action: 'loaded', step: 10 });
    const tail = steps(one[0]);
    expect(tail.map((e) => e.step)).toEqual([11, 12, 13, 14, 15]);
    let worst = 0;
    for (const e of [...steps(dp[0]), ...tail])
      worst = Math.max(worst, Math.abs(e.loss - want[e.step - 1]) / want[e.step - 1]);
    tail.forEach((e) =>
      expect(Math.abs(e.loss - want[e.step - 1]) / want[e.step - 1], `one rank step ${e.step}`).toBeLessThanOrEqual(
        1e-4,
      ),
    );
    expect(worst).toBeLessThanOrEqual(2e-6);
    console.log(
      `[checkpoint resume] worst relative loss difference after two layout changes: ${worst.toExponential(2)}; losses ${want.map((l) => l.toFixed(4)).join(' ')}`,
    );
  });
});

describe('checkpoints of ZeRO-2 and ZeRO-3 ranks', () => {
  it('DP2 ZeRO-3 → DP2 ZeRO-2 → DP2 ZeRO-3 repeats one rank’s uninterrupted losses', async () => {
    const want = steps((await run(1, { gradient_accumulation_steps: 2 }, 6, {}))[0]).map((e) => e.loss);
    const dp2 = (stage: number) => ({ gradient_accumulation_steps: 1, zero_optimization: { stage } });
    const legs = [
      { stage: 3, upTo: 2, ck: { save: 'z3', every: 2 } },
      { stage: 2, upTo: 4, ck: { load: 'z3', save: 'z2', every: 2 } },
      { stage: 3, upTo: 6, ck: { load: 'z2' } },
    ];
    let worst = 0;
    for (const [i, leg] of legs.entries()) {
      const ranks = await run(2, dp2(leg.stage), leg.upTo, leg.ck);
      for (const events of ranks) {
        if (i > 0) expect(checkpointEvents(events)[0]).toMatchObject({ action: 'loaded', step: leg.upTo - 2 });
        const got = steps(events);
        expect(got.map((e) => e.step)).toEqual([leg.upTo - 1, leg.upTo]);
        for (const e of got) worst = Math.max(worst, Math.abs(e.loss - want[e.step - 1]) / want[e.step - 1]);
      }
    }
    // ZeRO ≥ 1: every replica writes its moments, dp 0 the parameters (gathered from the shards under ZeRO-3)
    for (const name of ['z3', 'z2']) {
      const files = await gpu.page.evaluate((n) => (window as any).gpuTests.checkpointFiles(n), name);
      expect(files.files).toEqual(['rank_00000.safetensors', 'rank_00001.safetensors']);
    }
    expect(worst).toBeLessThanOrEqual(2e-6);
    console.log(
      `[checkpoint resume] ZeRO-3 → ZeRO-2 → ZeRO-3: worst relative loss difference ${worst.toExponential(2)}`,
    );
  });
});
