// fp16 / bf16 in headless Chromium (WebGPU on SwiftShader, no shader-f16): one rank with the loss
// scaled by a power of two and f32 storage (half_storage off) trains bit for bit as f32, and with
// bf16 weights and activations in GPU memory close to it; TP2 × PP2 with fp16 between ranks skips
// its overflowing first steps on all four ranks alike and then trains close to f32.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-files';
import type { TrainEvent } from '../src/train/events';
import { useGpuTestPage } from './gpu-page';

const gpu = useGpuTestPage();
const STEPS = 8;
const tiny = {
  seq_length: 32,
  hidden_size: 32,
  num_layers: 2,
  train_micro_batch_size_per_gpu: 2,
  eval_interval: STEPS,
  eval_iters: 1,
  train_iters: STEPS,
  lr_decay_iters: STEPS,
  warmup: 0.2,
};

type Step = Extract<TrainEvent, { kind: 'step' }>;
const stepsOf = (events: TrainEvent[]) => events.filter((e): e is Step => e.kind === 'step');

describe('mixed precision in Chromium', () => {
  it('one rank: fp16 with f32 storage equals f32 to the bit, bf16 storage stays near it', async () => {
    const run = (extra: Record<string, unknown>): Promise<TrainEvent[]> => {
      const c = loadConfig(['configs/tiny.yml'], { ...tiny, ...extra }).config;
      return gpu.page.evaluate(([cfg, n]) => (window as any).gpuTests.train(cfg, n), [c, STEPS] as const);
    };
    const f32 = stepsOf(await run({}));
    const wireOnly = { half_storage: { weights: false, activations: false } };
    const fp16Events = await run({ ...wireOnly, fp16: { enabled: true, initial_scale_power: 14 } });
    const fp16Start = fp16Events.find((e) => e.kind === 'start') as Extract<TrainEvent, { kind: 'start' }>;
    expect(fp16Start.precision).toMatch(/; f32 arithmetic \(this GPU has no shader-f16\)$/);
    const fp16 = stepsOf(fp16Events);
    expect(fp16.map((s) => s.loss)).toEqual(f32.map((s) => s.loss));
    expect(fp16.map((s) => s.lossScale)).toEqual(Array(STEPS).fill(2 ** 14));
    const events = await run({ bf16: { enabled: true } });
    const start = events.find((e) => e.kind === 'start') as Extract<TrainEvent, { kind: 'start' }>;
    expect(start.precision).toMatch(
      /^bf16 mixed precision; bf16 in GPU memory: the parameters' working copy .*; f32 arithmetic \(WGSL has no bf16 arithmetic type\)$/,
    );
    const bf16 = stepsOf(events);
    for (const [i, s] of bf16.entries()) expect(Math.abs(s.loss - f32[i].loss) / f32[i].loss).toBeLessThan(2e-3);
    expect(bf16.some((s, i) => s.loss !== f32[i].loss)).toBe(true);
  });

  it('TP2 × PP2 fp16: overflow skips agreed by every rank, then losses near f32', async () => {
    const layout = (extra: Record<string, unknown>) => {
      const c = loadConfig(['configs/tiny.yml'], {
        ...tiny,
        model_parallel_size: 2,
        pipe_parallel_size: 2,
        gradient_accumulation_steps: 2,
        ...extra,
      }).config;
      return gpu.page.evaluate(
        ([cfg, n]) => (window as any).gpuTests.trainLayout(cfg, 4, n) as Promise<TrainEvent[][]>,
        [c, STEPS] as const,
      );
    };
    const f32 = (await layout({})).map(stepsOf);
    const fp16 = (await layout({ fp16: { enabled: true, initial_scale_power: 19, hysteresis: 1 } })).map(stepsOf);
    const pattern = fp16.map((steps) => steps.map((s) => [s.lossScale, !!s.skipped]));
    for (const p of pattern) expect(p).toEqual(pattern[0]);
    const skipped = fp16[3].filter((s) => s.skipped).length;
    expect(skipped).toBeGreaterThan(0);
    expect(skipped).toBeLessThan(STEPS - 2);
    // once it steps, the model trains; the skipped steps' losses are those of the initial model
    expect(fp16[3].at(-1)!.loss).toBeLessThan(fp16[3][0].loss);
    expect(Math.abs(fp16[3][0].loss - f32[3][0].loss)).toBeLessThan(1e-2);
  });
});
