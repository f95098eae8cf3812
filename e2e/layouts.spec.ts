// Every parallel layout trains exactly like one rank: same seed, same data, the loss at each
// of 6 steps within 1e-4 relative of the single-rank run with the same global batch
// (single rank: micro batch × (gradient accumulation × DP)). WebGPU in headless Chromium;
// the ranks of a layout run in one worker over the loopback transport (the WebRTC transport
// is tested on its own in e2e/comm*.spec.ts and with real tabs in e2e/multitab-*.spec.ts).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-files';
import { planFromConfig } from '../src/parallel/index';
import type { RankMemory, TrainEvent } from '../src/train/events';
import { configuredLayout, planFor } from '../src/train/elastic/layout';
import { useGpuTestPage } from './gpu-page';

const gpu = useGpuTestPage();
const STEPS = 6; // a wrong slot or shard shows from step 2 on (see TIGHT); CI time is finite
const tiny = {
  seq_length: 32,
  hidden_size: 32,
  num_layers: 2,
  train_micro_batch_size_per_gpu: 2,
  eval_interval: 5,
  eval_iters: 2,
  train_iters: STEPS,
  lr_decay_iters: STEPS,
  warmup: 0.2,
};
// Only summation order differs from one rank, so the losses agree far inside the 1e-4 the
// issue asks; a real bug shows up well above this (a pipeline slot overwritten by the next
// micro-batch's activation, since fixed, drifted 2.4e-5 in 10 steps).
const TIGHT = 2e-6;

const of = <K extends TrainEvent['kind']>(events: TrainEvent[], kind: K) =>
  events.filter((e): e is Extract<TrainEvent, { kind: K }> => e.kind === kind);
const refCache = new Map<string, TrainEvent[]>();
const SINGLE = {
  pipe_parallel_size: 0,
  num_layers_per_virtual_pipeline_stage: null,
  model_parallel_size: 1,
  zero_optimization: { stage: 0 },
  checkpoint_activations: false,
};

async function reference(accum: number, model: Record<string, unknown>): Promise<TrainEvent[]> {
  const c = loadConfig(['configs/tiny.yml'], {
    ...tiny,
    ...model,
    ...SINGLE,
    gradient_accumulation_steps: accum,
  }).config;
  // keyed by the single rank's config: layouts that differ only in how they split it share one
  const key = JSON.stringify(c);
  if (!refCache.has(key)) {
    refCache.set(
      key,
      await gpu.page.evaluate(([cfg, n]) => (window as any).gpuTests.train(cfg, n), [c, STEPS] as const),
    );
  }
  return refCache.get(key)!;
}

async function layout(world: number, settings: Record<string, unknown>): Promise<TrainEvent[][]> {
  const cfg = loadConfig(['configs/tiny.yml'], { ...tiny, ...settings }).config;
  return gpu.page.evaluate(([c, w, n]) => (window as any).gpuTests.trainLayout(c, w, n), [cfg, world, STEPS] as const);
}

const memoryOf = (events: TrainEvent[]): RankMemory => of(events, 'start')[0].memory!;

interface Case {
  name: string;
  world: number;
  tp?: number;
  pipe?: number;
  accum: number;
  dp: number;
  /** zero_optimization.stage (default 0) */
  zero?: 1 | 2 | 3;
  recompute?: boolean;
  /** Megatron's sequence parallelism inside the TP group */
  seq?: boolean;
  model?: Record<string, unknown>;
}
const cases: Case[] = [
  { name: 'TP2', world: 2, tp: 2, accum: 1, dp: 1 },
  {
    name: 'TP2 untied, learned positions, rmsnorm, parallel residual',
    world: 2,
    tp: 2,
    accum: 1,
    dp: 1,
    model: { no_weight_tying: true, pos_emb: 'learned', norm: 'rmsnorm', gpt_j_residual: true },
  },
  { name: 'DP2', world: 2, accum: 1, dp: 2 },
  { name: 'DP2, gradient accumulation 2', world: 2, accum: 2, dp: 2 },
  { name: 'PP2 (tied embeddings, accumulation 2)', world: 2, pipe: 2, accum: 2, dp: 1 },
  {
    name: 'PP2 untied, learned positions',
    world: 2,
    pipe: 2,
    accum: 2,
    dp: 1,
    model: { no_weight_tying: true, pos_emb: 'learned' },
  },
  { name: 'TP2×PP2', world: 4, tp: 2, pipe: 2, accum: 2, dp: 1 },
  // Megatron's schedule for m < P: warm-up forwards, then cool-down backwards, no steady state
  // (untied with 4 layers and accumulation 2: one single-rank reference with TP2×PP2 interleaved)
  {
    name: 'PP4, 2 micro-batches (m < P)',
    world: 4,
    pipe: 4,
    accum: 2,
    dp: 1,
    model: { num_layers: 4, no_weight_tying: true },
  },
  // interleaved 1F1B: 2 model chunks per stage (layers 0, 2 on stage 0; 1, 3 on stage 1)
  {
    name: 'PP2 interleaved, 2 chunks per stage',
    world: 2,
    pipe: 2,
    accum: 4,
    dp: 1,
    model: { num_layers: 4, num_layers_per_virtual_pipeline_stage: 1 },
  },
  {
    name: 'TP2×PP2 interleaved, untied',
    world: 4,
    tp: 2,
    pipe: 2,
    accum: 2,
    dp: 1,
    model: { num_layers: 4, num_layers_per_virtual_pipeline_stage: 1, no_weight_tying: true },
  },
  { name: 'PP2×DP2', world: 4, pipe: 2, accum: 2, dp: 2 },
  {
    name: 'PP2×DP2 interleaved, ZeRO-1',
    world: 4,
    pipe: 2,
    accum: 2,
    dp: 2,
    zero: 1,
    model: { num_layers: 4, num_layers_per_virtual_pipeline_stage: 1 },
  },
  { name: 'TP2×DP2 with ZeRO-1', world: 4, tp: 2, accum: 1, dp: 2, zero: 1 },
  { name: 'DP2 with ZeRO-2, gradient accumulation 2', world: 2, accum: 2, dp: 2, zero: 2 },
  { name: 'DP2 with ZeRO-3, gradient accumulation 2', world: 2, accum: 2, dp: 2, zero: 3 },
  // (ZeRO-2/3 with pipeline parallelism is refused by the config, as DeepSpeed refuses it)
  { name: 'TP2×DP2 with ZeRO-3, activation recompute', world: 4, tp: 2, accum: 1, dp: 2, zero: 3, recompute: true },
  { name: 'PP2 with activation recompute', world: 2, pipe: 2, accum: 2, dp: 1, recompute: true },
  {
    name: 'TP2×PP2×DP2, ZeRO-1, activation recompute',
    world: 8,
    tp: 2,
    pipe: 2,
    accum: 2,
    dp: 2,
    zero: 1,
    recompute: true,
  },
  {
    // dropout masks follow (step, global sample, global head), so every layout drops the same elements
    name: 'TP2×PP2×DP2 with hidden and attention dropout 0.1',
    world: 8,
    tp: 2,
    pipe: 2,
    accum: 2,
    dp: 2,
    model: { hidden_dropout: 0.1, attention_dropout: 0.1 },
  },
  { name: 'TP2 sequence parallel', world: 2, tp: 2, accum: 1, dp: 1, seq: true },
  {
    name: 'TP2 sequence parallel, untied, learned positions, rmsnorm, parallel residual, dropout 0.1',
    world: 2,
    tp: 2,
    accum: 1,
    dp: 1,
    seq: true,
    model: {
      no_weight_tying: true,
      pos_emb: 'learned',
      norm: 'rmsnorm',
      gpt_j_residual: true,
      hidden_dropout: 0.1,
      attention_dropout: 0.1,
    },
  },
  {
    name: 'TP2×PP2×DP2 sequence parallel, ZeRO-1, recompute, dropout 0.1',
    world: 8,
    tp: 2,
    pipe: 2,
    accum: 2,
    dp: 2,
    zero: 1,
    recompute: true,
    seq: true,
    model: { hidden_dropout: 0.1, attention_dropout: 0.1 },
  },
  { name: 'TP2×DP2 sequence parallel, ZeRO-3', world: 4, tp: 2, accum: 1, dp: 2, zero: 3, seq: true },
];

describe.each(cases)('$name = single rank', ({ world, tp, pipe, accum, dp, zero, recompute, seq, model }) => {
  it(`loss at each of ${STEPS} steps within 1e-4 relative, on every rank`, async () => {
    const want = of(await reference(accum * dp, model ?? {}), 'step').map((e) => e.loss);
    const settings = {
      ...model,
      model_parallel_size: tp ?? 1,
      pipe_parallel_size: pipe ?? 0,
      gradient_accumulation_steps: accum,
      zero_optimization: { stage: zero ?? 0 },
      checkpoint_activations: !!recompute,
      sequence_parallel: !!seq,
    };
    const ranks = await layout(world, settings);
    expect(ranks).toHaveLength(world);
    expect(want).toHaveLength(STEPS);
    let worst = 0;
    for (const events of ranks) {
      const got = of(events, 'step').map((e) => e.loss);
      expect(got).toHaveLength(STEPS);
      got.forEach((l, i) => {
        const rel = Math.abs(l - want[i]) / want[i];
        worst = Math.max(worst, rel);
        expect(rel, `step ${i + 1}: ${l} vs ${want[i]}`).toBeLessThanOrEqual(1e-4);
      });
      expect(of(events, 'eval').length).toBeGreaterThanOrEqual(2);
    }
    expect(worst, 'worst relative difference from one rank').toBeLessThanOrEqual(TIGHT);
    expect(want[STEPS - 1]).toBeLessThan(want[0]);
  });
});

describe('memory, measured from the buffers each rank allocates', () => {
  it('ZeRO-1 keeps 1/DP of the Adam state per rank; activation recompute keeps fewer activations', async () => {
    const base = { pipe_parallel_size: 0, model_parallel_size: 1, gradient_accumulation_steps: 1 };
    const [plain, zero] = await Promise.all(
      [
        layout(2, { ...base, zero_optimization: { stage: 0 } }),
        layout(2, { ...base, zero_optimization: { stage: 1 } }),
      ].map((p) => p.then((r) => r.map(memoryOf))),
    );
    for (const m of zero) expect(m.optimizerBytes * 2).toBeCloseTo(plain[0].optimizerBytes, -3); // equal up to the ZeRO padding
    const full = memoryOf((await layout(1, { ...base, num_layers: 4, checkpoint_activations: false }))[0]);
    const recompute = memoryOf(
      (await layout(1, { ...base, num_layers: 4, checkpoint_activations: true, checkpoint_num_layers: 1 }))[0],
    );
    console.log(
      `[memory] 4 layers, micro batch 2×32: activations ${full.activationBytes} B → ${recompute.activationBytes} B with recompute; Adam state ${plain[0].optimizerBytes} B → ${zero[0].optimizerBytes} B per rank with ZeRO-1 over 2`,
    );
    expect(recompute.activationBytes).toBeLessThan(0.7 * full.activationBytes);
  });
});

describe('sequence parallelism: memory measured from the buffers each rank allocates', () => {
  // no step is needed: the ranks report their buffers when they start
  const memoryAt = async (world: number, settings: Record<string, unknown>) => {
    const cfg = loadConfig(['configs/tiny.yml'], { ...tiny, ...settings }).config;
    const ranks: TrainEvent[][] = await gpu.page.evaluate(([c, w]) => (window as any).gpuTests.trainLayout(c, w, 0), [
      cfg,
      world,
    ] as const);
    const { plan } = planFromConfig(cfg, { world });
    return ranks.map((events, r) => ({
      measured: memoryOf(events).activationBytes,
      planned: plan.stages[plan.grid.coords[r].pp].memory.activations,
    }));
  };

  it('each TP rank keeps fewer activations, and plan counts exactly what the trainer allocates', async () => {
    const base = { model_parallel_size: 2, gradient_accumulation_steps: 2, num_layers: 4 };
    const rows: string[] = [];
    for (const [world, settings] of [
      [2, { ...base, pipe_parallel_size: 0 }],
      [4, { ...base, pipe_parallel_size: 2, checkpoint_activations: true }],
    ] as const) {
      const off = await memoryAt(world, { ...settings, sequence_parallel: false });
      const on = await memoryAt(world, { ...settings, sequence_parallel: true });
      for (const m of [...off, ...on]) expect(m.measured).toBe(m.planned);
      on.forEach((m, r) => expect(m.measured).toBeLessThan(off[r].measured));
      rows.push(`${JSON.stringify(settings)}: ${off.map((m) => m.measured)} B → ${on.map((m) => m.measured)} B`);
    }
    console.log(`[memory] activations per rank without → with sequence_parallel:\n${rows.join('\n')}`);
  });
});

describe('ZeRO memory: what `plan` says is what each rank allocates', () => {
  it('ZeRO-2 keeps 1/DP of the gradients, ZeRO-3 also of the parameters at rest (+ a one-layer window)', async () => {
    const settings = (stage: number, tp = 1) => ({
      ...tiny,
      num_layers: 4,
      pipe_parallel_size: 0,
      model_parallel_size: tp,
      gradient_accumulation_steps: 1,
      eval_iters: 1,
      zero_optimization: { stage },
    });
    const runs = [1, 2, 3].map((stage) => ({ world: 2, cfg: settings(stage) }));
    runs.push({ world: 4, cfg: settings(3, 2) });
    const measured = await Promise.all(
      runs.map(async ({ world, cfg }) => {
        const c = loadConfig(['configs/tiny.yml'], cfg).config;
        const ranks: TrainEvent[][] = await gpu.page.evaluate(
          ([c, w]) => (window as any).gpuTests.trainLayout(c, w, 1),
          [c, world] as const,
        );
        const planned = planFor(c, configuredLayout(c, world)).stages[0].memory;
        for (const [r, events] of ranks.entries()) {
          const m = memoryOf(events);
          const what = `ZeRO-${cfg.zero_optimization.stage}, world ${world}, rank ${r}`;
          expect(m.paramBytes, `${what}: parameters`).toBe(planned.params);
          expect(m.gradBytes, `${what}: gradients`).toBe(planned.grads);
          expect(m.optimizerBytes, `${what}: Adam m and v`).toBe(planned.optimizer);
        }
        return { ...memoryOf(ranks[0]), window: planned.window };
      }),
    );
    const [one, two, three] = measured;
    expect(two.gradBytes - two.window).toBe(one.gradBytes / 2);
    expect(two.paramBytes).toBe(one.paramBytes);
    expect(three.paramBytes - three.window).toBe(one.paramBytes / 2);
    expect(three.gradBytes).toBe(two.gradBytes);
    const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
    console.log(
      `[memory] 4 layers, DP 2, per rank (params / grads / Adam m+v): ${measured
        .slice(0, 3)
        .map((m, i) => `ZeRO-${i + 1} ${kib(m.paramBytes)} / ${kib(m.gradBytes)} / ${kib(m.optimizerBytes)}`)
        .join('; ')}; window ${kib(three.window)}`,
    );
  });
});

describe('dropout (NeoX default 0.1)', () => {
  it('trains with dropout on one rank; evaluation applies none', async () => {
    const withDropout = await reference(1, { hidden_dropout: 0.1, attention_dropout: 0.1 });
    const without = await reference(1, {});
    const losses = (ev: TrainEvent[]) => of(ev, 'step').map((e) => e.loss);
    expect(losses(withDropout)).toHaveLength(STEPS);
    expect(losses(withDropout).every(Number.isFinite)).toBe(true);
    expect(losses(withDropout)[STEPS - 1]).toBeLessThan(losses(withDropout)[0]);
    // the first step's forward sees the same weights: only dropout makes the training losses differ
    expect(Math.abs(losses(withDropout)[0] - losses(without)[0])).toBeGreaterThan(1e-3);
    // evaluation before any step: same weights, no dropout, so the same validation loss to the last bit
    const valid0 = (ev: TrainEvent[]) => of(ev, 'eval').find((e) => e.step === 0)!.loss;
    expect(valid0(withDropout)).toBe(valid0(without));
  });
});

describe('what the model writes (the admin page shows it at every evaluation)', () => {
  it('TP2 × PP2 takes the same greedy sample as one rank, at each evaluation', async () => {
    const cfg = (settings: Record<string, unknown>) =>
      loadConfig(['configs/tiny.yml'], { ...tiny, ...settings }).config;
    const samples = async (world: number, settings: Record<string, unknown>) => {
      const ranks: TrainEvent[][] = await gpu.page.evaluate(
        ([c, w, n]) => (window as any).gpuTests.trainLayout(c, w, n, {}, 12),
        [cfg(settings), world, 5] as const,
      );
      return ranks.flatMap((evs) => of(evs, 'sample'));
    };
    const one = await samples(1, { ...SINGLE, gradient_accumulation_steps: 2 });
    const split = await samples(4, { model_parallel_size: 2, pipe_parallel_size: 2, gradient_accumulation_steps: 2 });
    // rank 0 reports; evaluations at steps 0 and 5
    expect(one.map((s) => s.step)).toEqual([0, 5]);
    expect(split.map((s) => [s.step, s.prompt, s.text])).toEqual(one.map((s) => [s.step, s.prompt, s.text]));
    expect(one[1].text.length).toBeGreaterThan(0);
  });
});
