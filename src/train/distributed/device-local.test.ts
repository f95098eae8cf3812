// Layouts whose ranks share this process's GPU device (trainLoopbackRanks: Dawn + SwiftShader
// here) take the device-local collectives (gpu/device-collectives.ts) and pipeline copies
// (gpu/device-p2p.ts: every activation and gradient, none over the transport) and still train exactly
// like one rank: the loss at each step within the parity tolerance of e2e/layouts.spec.ts (there
// the ranks run in a browser worker on the host path, unchanged), on every rank. ZeRO-2's
// gradient shards stay on the host path next to TP sums on the device.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-files';
import { defaultCorpus } from '../../data/corpus';
import { sharedTestContext } from '../../gpu/test-context';
import type { TrainEvent } from '../events';
import type { TrainConfig } from '../setup';
import { trainLoopbackRanks } from './loopback-ranks';

const STEPS = 4;
const tiny = {
  seq_length: 16,
  hidden_size: 32,
  num_layers: 2,
  train_micro_batch_size_per_gpu: 2,
  eval_interval: STEPS,
  eval_iters: 1,
  train_iters: STEPS,
  lr_decay_iters: STEPS,
  warmup: 0.2,
  sample_tokens: 0,
};
const TIGHT = 2e-6;

const config = (settings: Record<string, unknown>) =>
  loadConfig(['configs/tiny.yml'], { ...tiny, ...settings }).config as unknown as TrainConfig;
const lossesOf = (events: TrainEvent[]) =>
  events.filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step').map((e) => e.loss);

const text = (await defaultCorpus()).slice(0, 100_000);
const refs = new Map<string, number[]>();
async function reference(accum: number, model: Record<string, unknown>): Promise<number[]> {
  const key = JSON.stringify([accum, model]);
  if (!refs.has(key)) {
    const c = config({ ...model, gradient_accumulation_steps: accum, pipe_parallel_size: 0, model_parallel_size: 1 });
    const { events } = await trainLoopbackRanks(await sharedTestContext(), c, text, 1);
    refs.set(key, lossesOf(events[0]));
  }
  return refs.get(key)!;
}

interface Case {
  name: string;
  world: number;
  tp?: number;
  pipe?: number;
  accum: number;
  dp: number;
  zero?: number;
  seq?: boolean;
  model?: Record<string, unknown>;
  /** relative loss difference allowed (default TIGHT) */
  tolerance?: number;
}
const cases: Case[] = [
  { name: 'DP2', world: 2, accum: 1, dp: 2 },
  { name: 'TP2', world: 2, tp: 2, accum: 1, dp: 1 },
  { name: 'TP2×PP2 (tied embeddings across stages)', world: 4, tp: 2, pipe: 2, accum: 2, dp: 1 },
  { name: 'PP2, 4 micro-batches (activations and gradients copied on the device)', world: 2, pipe: 2, accum: 4, dp: 1 },
  { name: 'PP2×DP2', world: 4, pipe: 2, accum: 2, dp: 2 },
  { name: 'TP2 sequence parallel', world: 2, tp: 2, accum: 1, dp: 1, seq: true },
  { name: 'DP2 with ZeRO-1', world: 2, accum: 2, dp: 2, zero: 1 },
  { name: 'TP2×DP2 with ZeRO-2 (shards on the host path)', world: 4, tp: 2, accum: 1, dp: 2, zero: 2 },
  // the f32 master shards are gathered on the device, the bf16 working copy cast from them
  // (against one bf16 rank: 16-bit rounding of differently summed gradients, as half-storage.test.ts allows)
  {
    name: 'DP2 with ZeRO-1, bf16',
    world: 2,
    accum: 1,
    dp: 2,
    zero: 1,
    model: { bf16: { enabled: true } },
    tolerance: 2e-3,
  },
];

describe('device-local collectives = one rank', { timeout: 300_000 }, () => {
  it.each(cases)('$name', async ({ world, tp, pipe, accum, dp, zero, seq, model, tolerance }) => {
    const want = await reference(accum * dp, model ?? {});
    const c = config({
      ...model,
      model_parallel_size: tp ?? 1,
      pipe_parallel_size: pipe ?? 0,
      gradient_accumulation_steps: accum,
      zero_optimization: { stage: zero ?? 0 },
      sequence_parallel: !!seq,
    });
    const run = await trainLoopbackRanks(await sharedTestContext(), c, text, world);
    expect(run.deviceCollectives, 'collectives that ran on the device').toBeGreaterThan(0);
    // every activation and its gradient: 2 per micro-batch and stage boundary, per step and pipeline
    const boundaries = (pipe ?? 1) - 1;
    expect(run.deviceMessages, 'pipeline tensors copied on the device').toBe(
      2 * boundaries * accum * STEPS * dp * (tp ?? 1),
    );
    expect(want).toHaveLength(STEPS);
    for (const events of run.events) {
      const got = lossesOf(events);
      expect(got).toHaveLength(STEPS);
      got.forEach((l, i) =>
        expect(Math.abs(l - want[i]) / want[i], `step ${i + 1}`).toBeLessThanOrEqual(tolerance ?? TIGHT),
      );
    }
  });
});
