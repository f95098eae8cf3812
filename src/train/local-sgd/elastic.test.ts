// local_sgd across membership changes (WebGPU through Dawn in Node; the elastic harness of
// e2e/pages/elastic-harness.ts: ElasticRanks over loopback, driven by the coordinator's planner).
// Mid-round the replicas hold different parameters and the round's start point, outer momentum
// and error-feedback residual live only in each rank's LocalSgd. A generation that resumes after
// step 0 therefore starts a new round from the average of its replicas' parameters, with the
// momentum and the residual at zero (README, "Training over slow links"). Without that average
// each replica would take its own parameters as the start point and the replicas would never
// agree again: the final sync leaves every replica at its own start − lr·mean(Δ).
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load-files';
import { defaultCorpus } from '../../data/corpus';
import { sharedTestContext } from '../../gpu/test-context';
import { type ElasticScenario, runElastic } from '../../../e2e/pages/elastic-harness';
import type { TrainEvent } from '../events';
import type { TrainConfig } from '../setup';

const STEPS = 8;
const config = loadConfig(['configs/tiny.yml'], {
  seq_length: 32,
  hidden_size: 32,
  num_layers: 2,
  train_micro_batch_size_per_gpu: 2,
  eval_interval: STEPS,
  eval_iters: 2,
  train_iters: STEPS,
  lr_decay_iters: STEPS,
  warmup: 0,
  local_sgd: { inner_steps: 3, compression: { type: 'int8', block_size: 64 } },
}).config as unknown as TrainConfig;

async function run(scenario: Partial<ElasticScenario>) {
  const ctx = await sharedTestContext();
  const text = (await defaultCorpus()).slice(0, 200_000);
  return runElastic(ctx, config, text, {
    world: 2,
    standbys: 0,
    injections: [],
    checkpointEvery: 0,
    snapshotInterval: 1,
    maxSteps: STEPS,
    ...scenario,
  });
}

const kinds = <K extends TrainEvent['kind']>(events: TrainEvent[], kind: K) =>
  events.filter((e): e is Extract<TrainEvent, { kind: K }> => e.kind === kind);

describe('local_sgd in an elastic run (DP2)', { timeout: 600_000 }, () => {
  it('a membership change mid-round: the replicas restart from their average and end as one model', async () => {
    const reference = await run({});
    // a tab joins after step 4 (one step past the round at 3): the run halts and replans; both
    // replicas keep their own, different, states
    const r = await run({ injections: [{ kind: 'join', step: 4 }] });
    expect(r.generations).toHaveLength(2);
    const resumed = r.generations[1];
    expect(resumed.sources).toEqual(['0:keep', '1:keep']);
    expect(resumed.step % 3, 'resumed mid-round').not.toBe(0);
    // the round schedule is the run's (multiples of inner_steps, and the last step), not the generation's
    const rounds = kinds(r.events, 'round').map((x) => x.appliedAt);
    expect([...new Set(rounds)]).toEqual([3, 6, 8]);
    // every replica ends with the same weights: the same validation loss, to the bit
    const finals = kinds(r.events, 'done').map((d) => d.validLoss);
    expect(finals).toHaveLength(2);
    expect(finals[1]).toBe(finals[0]);
    // an extra average at step 4 and an outer momentum restarted from zero: close to, not equal
    // to, the uninterrupted run
    const want = kinds(reference.events, 'done')[0].validLoss;
    expect(Math.abs(finals[0] / want - 1)).toBeLessThan(0.05);
    expect(finals[0]).toBeLessThan(kinds(r.events, 'eval')[0].loss);
  });
});
