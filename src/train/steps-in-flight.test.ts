// Trainer.trainStep called again before the previous step resolves (a loop that keeps steps in
// flight, single-rank.ts): each step starts once the one before has queued its GPU work and
// readbacks, so the GPU runs the same dispatches in the same order as a loop that waits for every
// step. Results, parameters and Adam moments are bitwise those of the waiting loop, in f32 and
// with fp16's dynamic loss scaler (whose overflow read splits a step), and a step that fails
// leaves the ones queued behind it running.
import { describe, expect, it } from 'vitest';
import { sharedTestContext } from '../gpu/test-context';
import { mixedPrecisionFor } from './precision';
import { patternBatch, tinyConfig, tinyTrainer } from './tiny-trainer';
import type { MicroBatch, StepResult, Trainer } from './trainer';

const STEPS = 4;

async function trainerFor(precision: 'fp32' | 'fp16') {
  const c = tinyConfig({
    warmup: 0.5,
    train_iters: STEPS,
    ...(precision === 'fp16' ? { precision: 'fp16', fp16: { enabled: true, initial_scale_power: 8 } } : {}),
  });
  const t = tinyTrainer(await sharedTestContext(), c, {
    gradAccumSteps: 2,
    mixed: mixedPrecisionFor(c) ?? undefined,
    arithmetic: 'f32',
  });
  const batches = (step: number) => [2 * step, 2 * step + 1].map((salt) => patternBatch(t.model.spec, 2, salt));
  return { t, batches };
}

async function finalState(t: Trainer) {
  return { params: await t.readParams(), moments: await t.readMoments() };
}

async function waitingLoop(precision: 'fp32' | 'fp16') {
  const { t, batches } = await trainerFor(precision);
  const results: StepResult[] = [];
  for (let step = 0; step < STEPS; step++) results.push(await t.trainStep(batches(step)));
  return { results, ...(await finalState(t)) };
}

/** every step called at once, before any resolves */
async function allInFlight(precision: 'fp32' | 'fp16') {
  const { t, batches } = await trainerFor(precision);
  const pending = Array.from({ length: STEPS }, (_, step) => t.trainStep(batches(step)));
  const results = await Promise.all(pending);
  return { results, ...(await finalState(t)) };
}

describe('steps in flight = steps waited for', { timeout: 300_000 }, () => {
  for (const precision of ['fp32', 'fp16'] as const) {
    it(`${precision}: the same results, parameters and moments, bit for bit`, async () => {
      const waited = await waitingLoop(precision);
      const overlapped = await allInFlight(precision);
      expect(overlapped.results).toEqual(waited.results);
      expect(overlapped.results.map((r) => r.step)).toEqual([1, 2, 3, 4]);
      expect(new Set(waited.results.map((r) => r.loss)).size).toBe(STEPS); // the steps changed the weights
      expect(new Set(waited.results.map((r) => r.lr)).size).toBeGreaterThan(1); // warmup: the lr moves
      if (precision === 'fp16') expect(waited.results[0].lossScale).toBe(256);
      expect(overlapped.params).toEqual(waited.params);
      expect(overlapped.moments.m).toEqual(waited.moments.m);
      expect(overlapped.moments.v).toEqual(waited.moments.v);
    });
  }

  it('a step that fails rejects with its error; the steps queued behind it still run', async () => {
    const { t, batches } = await trainerFor('fp32');
    const bad: MicroBatch[] = [{ tokens: new Int32Array(3), targets: new Int32Array(3) }, batches(0)[1]];
    const first = t.trainStep(batches(0));
    const failing = t.trainStep(bad);
    const after = t.trainStep(batches(1));
    await expect(failing).rejects.toThrow(/micro-batch has 3 tokens and 3 targets; the model expects 32/);
    const [r1, r2] = await Promise.all([first, after]);
    expect([r1.step, r2.step]).toEqual([1, 2]);
    expect(Number.isFinite(r2.loss)).toBe(true);
  });
});
