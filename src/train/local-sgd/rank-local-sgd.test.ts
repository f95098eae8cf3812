// LocalSgd driving the real GPU trainer (WebGPU through Dawn in Node; SwiftShader without a
// GPU): data-parallel replicas, each a Trainer taking ordinary AdamW steps on its own batches,
// synced by rounds over the loopback transport. What inner_steps 1 / outer lr 1 / momentum 0
// means with AdamW as the inner optimizer: the replicas' end points averaged after every step.
// That is one trainer's run when every replica sees the same batches, and not synchronous data
// parallelism when they see their own (Adam's step is not linear in the gradient, and each
// replica's moments follow its own gradients); equivalence.test.ts has the exact case (inner SGD).
import { describe, expect, it } from 'vitest';
import { allReduce } from '../../comm/collectives';
import { transportP2P } from '../../comm/compress/compressed-ring';
import { Group } from '../../comm/group';
import { createLoopbackWorld } from '../../comm/loopback';
import { LOCAL_SGD_DEFAULTS, type LocalSgdConfig } from '../../config/local-sgd';
import { resolveConfig } from '../../config/resolve';
import { sharedTestContext } from '../../gpu/test-context';
import { initFlat } from '../../model/init';
import { getTokenizer } from '../../data/tokenizer';
import { Rng } from '../../util/rng';
import { adamHyper, lrSchedule, modelSpec, type TrainConfig } from '../setup';
import { Trainer, type MicroBatch } from '../trainer';
import { rankLocalSgd } from './rank-local-sgd';
import { maxRelDiff } from '../../util/max-rel-diff';

const config = resolveConfig([
  {
    file: 'test',
    data: {
      num_layers: 2,
      hidden_size: 32,
      num_attention_heads: 4,
      seq_length: 16,
      train_micro_batch_size_per_gpu: 2,
      train_iters: 6,
      tokenizer_type: 'CharLevelTokenizer',
      optimizer: { type: 'Adam', params: { lr: 3e-3 } },
      hidden_dropout: 0,
      attention_dropout: 0,
      warmup: 0,
    },
  },
]).config as unknown as TrainConfig;

function batch(seed: number): MicroBatch[] {
  const rng = new Rng(seed);
  // a learnable pattern: each next byte is the previous + 1
  const start = Int32Array.from({ length: 2 }, () => 97 + rng.int(20));
  const tokens = new Int32Array(32).map((_, i) => start[i >> 4] + (i % 16));
  return [{ tokens, targets: tokens.map((t) => t + 1) }];
}

async function replicas(n: number) {
  const ctx = await sharedTestContext();
  const spec = modelSpec(config, getTokenizer('CharLevelTokenizer'));
  return Array.from({ length: n }, () => {
    const t = new Trainer(ctx, {
      spec,
      microBatchSize: 2,
      gradAccumSteps: 1,
      adam: adamHyper(config),
      schedule: lrSchedule(config),
    });
    t.loadParams(initFlat(t.model.layout, config.seed));
    return t;
  });
}

async function train(
  trainers: Trainer[],
  c: LocalSgdConfig | null,
  steps: number,
  data: (r: number, s: number) => number,
) {
  const world = createLoopbackWorld(trainers.length);
  const ranks = world.transports.map((t) => t.rank);
  const reports = await Promise.all(
    trainers.map(async (t, r) => {
      const local = c && (await rankLocalSgd(c, t, transportP2P(world.transports[r], 20_000), ranks, steps));
      // without rounds: synchronous data parallelism (gradients averaged every step)
      const group = new Group(world.transports[r], ranks);
      const average = async (tr: Trainer) => tr.writeGrads(await allReduce(group, await tr.readGrads(), 'avg'));
      const out = [];
      for (let s = 0; s < steps; s++) {
        await t.trainStep(batch(data(r, s)), { reduceGrads: local ? undefined : average });
        if (local) out.push(...(await local.sgd.afterStep(t.step, local.io)));
      }
      return out;
    }),
  );
  return { params: await Promise.all(trainers.map((t) => t.readParams())), reports };
}

const cfg = (c: Partial<LocalSgdConfig>): LocalSgdConfig => ({ ...structuredClone(LOCAL_SGD_DEFAULTS), ...c });
const fedAvgEveryStep = () => cfg({ inner_steps: 1, outer_optimizer: { type: 'nesterov', lr: 1, momentum: 0 } });

describe('LocalSgd with the GPU trainer', { timeout: 300_000 }, () => {
  it('inner_steps 1, outer lr 1, momentum 0: replicas on the same data train exactly like one trainer', async () => {
    const [single, a, b] = await replicas(3);
    const one = await train([single], null, 4, (_, s) => s);
    const two = await train([a, b], fedAvgEveryStep(), 4, (_, s) => s);
    // start − (start − end) is end up to f32 rounding; 4 AdamW steps carry it along
    expect(maxRelDiff(two.params[0], one.params[0])).toBeLessThan(1e-5);
    expect(two.params[1]).toEqual(two.params[0]);
    expect(two.reports[0]).toHaveLength(4);
  });

  it('inner_steps 1, outer lr 1, momentum 0: replicas on their own data do not train like synchronous AdamW', async () => {
    const [a, b, c, d] = await replicas(4);
    const own = (r: number, s: number) => 100 * r + s;
    const sync = await train([a, b], null, 4, own);
    const fedAvg = await train([c, d], fedAvgEveryStep(), 4, own);
    expect(sync.params[1]).toEqual(sync.params[0]);
    expect(fedAvg.params[1]).toEqual(fedAvg.params[0]);
    // Adam's first step moves each weight by ±lr·sign(g): where the replicas' gradients disagree in
    // sign, the average of their steps is 0 and the step with their averaged gradient is ±lr
    expect(maxRelDiff(fedAvg.params[0], sync.params[0])).toBeGreaterThan(1e-3);
  });

  it('DiLoCo with int8 pseudo-gradients: replicas on their own data end identical and learned', async () => {
    const trainers = await replicas(2);
    const before = await trainers[0].evaluate(batch(999));
    const run = await train(
      trainers,
      cfg({ inner_steps: 3, compression: { type: 'int8', block_size: 64, error_feedback: true } }),
      6,
      (r, s) => 100 * r + s,
    );
    expect(run.params[1]).toEqual(run.params[0]);
    expect(run.reports[0].map((x) => x.appliedAt)).toEqual([3, 6]);
    // int8: a quarter of f32 plus the block scales, per chunk sent
    expect(run.reports[0][0].bytesSent).toBeLessThan(0.3 * 4 * run.params[0].length);
    expect(await trainers[0].evaluate(batch(999))).toBeLessThan(before);
  });
});
