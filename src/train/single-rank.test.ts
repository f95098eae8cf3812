// trainSingleRank keeps one f32 step in flight: the host fetches and queues step n + 1 before it
// reports step n. Its events (every step's loss, learning rate and gradient norm, and every
// evaluation, which must see the parameters of the step it follows, not of one queued after it)
// equal those of the same run waiting for each step, to the bit.
import { describe, expect, it } from 'vitest';
import { sharedTestContext } from '../gpu/test-context';
import type { TrainEvent } from './events';
import { trainSingleRank } from './single-rank';
import { tinyConfig } from './tiny-trainer';

const TEXT = 'the quick brown fox jumps over the lazy dog; '.repeat(120);

async function run(stepInFlight: boolean) {
  const c = tinyConfig({ train_iters: 7, eval_interval: 3, eval_iters: 2, warmup: 0.3, seq_length: 32 });
  const events: TrainEvent[] = [];
  const out = await trainSingleRank(await sharedTestContext(), c, { kind: 'text', text: TEXT }, (e) => events.push(e), {
    stepInFlight,
  });
  const steps = events.flatMap((e) => (e.kind === 'step' ? [[e.step, e.loss, e.lr, e.gradNorm]] : []));
  const evals = events.flatMap((e) => (e.kind === 'eval' ? [[e.step, e.loss]] : []));
  return { steps, evals, out };
}

describe('single-rank loop with a step in flight', { timeout: 300_000 }, () => {
  it('reports what the loop that waits for every step reports, evaluations included', async () => {
    const waited = await run(false);
    const inFlight = await run(true);
    expect(inFlight.steps.map((s) => s[0])).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(inFlight.evals.map((e) => e[0])).toEqual([0, 3, 6, 7]);
    expect(inFlight.steps).toEqual(waited.steps);
    expect(inFlight.evals).toEqual(waited.evals);
    expect(inFlight.out).toEqual(waited.out);
    expect(new Set(waited.evals.map((e) => e[1])).size).toBe(4); // each evaluation saw other weights
  });
});
