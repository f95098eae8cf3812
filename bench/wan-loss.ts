// What each way of saving traffic costs in loss: data-parallel replicas of bench:wan's model in one
// process (GPU trainers on one WebGPU device through Dawn, the loopback transport between them),
// the same tokens in every mode: `sync` (gradients averaged every step), `diloco` with f32, int8
// with error feedback and int8 without it on the wire, int8 with plain averaging as the outer step
// (outer SGD, lr 1, no momentum), and Streaming DiLoCo's fragments. Prints
// one JSON object: per mode the final validation loss (all replicas hold the same model then),
// its ratio to sync's, and bytes sent per token (every message byte of every replica).
//   node --import tsx --import ./tools/register-raw.mjs bench/wan-loss.ts --json [--dp 2] [--steps 60] [--inner-steps 30]
//     [--modes sync,diloco-int8,...] [--outer nesterov:0.7:0.9] [--config a.yml,b.yml]
// --outer (type:lr:momentum) replaces DiLoCo's outer optimizer in every diloco mode but the fedavg one.
import { parseArgs } from 'node:util';
import { allReduce } from '../src/comm/collectives';
import { transportP2P } from '../src/comm/compress/compressed-ring';
import { Group } from '../src/comm/group';
import { createLoopbackWorld } from '../src/comm/loopback';
import { loadConfig } from '../src/config/load-files';
import { LOCAL_SGD_DEFAULTS, type LocalSgdConfig } from '../src/config/local-sgd';
import { defaultCorpus } from '../src/data/corpus';
import { sampleIds } from '../src/data/dataset';
import { createNodeContext } from '../src/gpu/device-node';
import { initFlat } from '../src/model/init';
import { rankLocalSgd } from '../src/train/local-sgd/rank-local-sgd';
import { openRankData } from '../src/data/rank-data';
import { adamHyper, lrSchedule, modelSpec, type TrainConfig } from '../src/train/setup';
import { Trainer } from '../src/train/trainer';
import { ensureDawnEnv } from './layouts/dawn-env';
import { WAN_CONFIGS } from './wan-rank';

ensureDawnEnv();

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    dp: { type: 'string', default: '2' },
    steps: { type: 'string', default: '60' },
    'inner-steps': { type: 'string', default: '30' },
    modes: { type: 'string' },
    outer: { type: 'string' },
    'eval-iters': { type: 'string', default: '32' },
    config: { type: 'string', default: WAN_CONFIGS.join(',') },
  },
});
const dp = Number(values.dp),
  steps = Number(values.steps),
  H = Number(values['inner-steps']);

const { config: resolved } = loadConfig(values.config.split(','), {
  train_iters: steps,
  lr_decay_iters: steps,
  global_num_gpus: dp,
});
const config = resolved as unknown as TrainConfig;
const corpus = await openRankData(config, { kind: 'text', text: await defaultCorpus() });
const ctx = await createNodeContext({ preferSwiftShader: true });
const spec = modelSpec(config, corpus.tokenizer);
const micro = config.train_micro_batch_size_per_gpu ?? 1;
const valid = await Promise.all(
  Array.from({ length: Number(values['eval-iters']) }, (_, i) => corpus.valid.batch(sampleIds(i, 0, micro, 1))),
);

/** --outer type:lr:momentum, or DiLoCo's */
function outerOptimizer(): LocalSgdConfig['outer_optimizer'] {
  if (!values.outer) return { ...LOCAL_SGD_DEFAULTS.outer_optimizer };
  const [type, lr, momentum] = values.outer.split(':');
  const o = { type, lr: Number(lr), momentum: Number(momentum) } as LocalSgdConfig['outer_optimizer'];
  if ((type !== 'nesterov' && type !== 'sgd') || !(o.lr > 0) || !(o.momentum >= 0 && o.momentum < 1))
    throw new Error(`--outer: "${values.outer}" is not type:lr:momentum (nesterov or sgd, lr > 0, 0 <= momentum < 1)`);
  return o;
}

const sgd = (c: Partial<LocalSgdConfig>): LocalSgdConfig => ({
  ...structuredClone(LOCAL_SGD_DEFAULTS),
  inner_steps: H,
  outer_optimizer: outerOptimizer(),
  ...c,
});
const MODES: Record<string, LocalSgdConfig | null> = {
  sync: null,
  'diloco-f32': sgd({}),
  'diloco-int8': sgd({ compression: { type: 'int8', block_size: 256, error_feedback: true } }),
  // outer SGD with lr 1 and no momentum: each round ends at the replicas' mean (federated averaging)
  'diloco-int8-fedavg': sgd({
    outer_optimizer: { type: 'sgd', lr: 1, momentum: 0 },
    compression: { type: 'int8', block_size: 256, error_feedback: true },
  }),
  'diloco-int8-no-feedback': sgd({ compression: { type: 'int8', block_size: 256, error_feedback: false } }),
  'streaming-4-fragments-int8': sgd({
    compression: { type: 'int8', block_size: 256, error_feedback: true },
    streaming: { fragments: 4, overlap_steps: 0, mix: 0.5 },
  }),
};

let params = 0;

async function run(mode: string, c: LocalSgdConfig | null) {
  const world = createLoopbackWorld(dp);
  const ranks = world.transports.map((t) => t.rank);
  const trainers = world.transports.map(() => {
    const t = new Trainer(ctx, {
      spec,
      microBatchSize: micro,
      gradAccumSteps: 1,
      adam: adamHyper(config),
      schedule: lrSchedule(config),
    });
    t.loadParams(initFlat(t.model.layout, config.seed));
    return t;
  });
  params = trainers[0].model.layout.count;
  const t0 = performance.now();
  await Promise.all(
    trainers.map(async (t, r) => {
      const group = new Group(world.transports[r], ranks);
      const local = c && (await rankLocalSgd(c, t, transportP2P(world.transports[r]), ranks, steps));
      for (let s = 0; s < steps; s++) {
        const batch = [await corpus.train.batch(sampleIds(s, 0, micro, 1, r, dp))];
        await t.trainStep(batch, {
          reduceGrads: local
            ? undefined
            : async (tr) => tr.writeGrads(await allReduce(group, await tr.readGrads(), 'avg')),
        });
        if (local) await local.sgd.afterStep(t.step, local.io);
      }
    }),
  );
  const tokens = steps * dp * micro * spec.T;
  const bytes = world.transports.flatMap((t) => t.meter.totals()).reduce((a, s) => a + s.bytesSent, 0);
  return {
    mode,
    ...(c
      ? {
          inner_steps: c.inner_steps,
          compression: c.compression.type,
          error_feedback: c.compression.error_feedback,
          outer_optimizer: c.outer_optimizer,
        }
      : {}),
    ...(c && c.streaming.fragments > 1 ? { fragments: c.streaming.fragments } : {}),
    tokens,
    final_loss: await trainers[0].evaluate(valid),
    bytes_per_token: bytes / tokens,
    wall_s: (performance.now() - t0) / 1000,
  };
}

const chosen = values.modes?.split(',') ?? Object.keys(MODES);
for (const m of chosen)
  if (!(m in MODES)) throw new Error(`--modes: unknown "${m}" (known: ${Object.keys(MODES).join(', ')})`);
const results = [];
for (const m of chosen) {
  results.push(await run(m, MODES[m]));
  console.error(JSON.stringify(results.at(-1))); // progress: each mode's result as it ends
}
const sync = results.find((r) => r.mode === 'sync');
const report = {
  bench: 'wan-loss',
  model: { layers: config.num_layers, hidden: config.hidden_size, seq: spec.T, micro, params, config: values.config },
  adapter: ctx.adapter && {
    vendor: ctx.adapter.vendor,
    device: ctx.adapter.device,
    description: ctx.adapter.description,
  },
  dp,
  steps,
  note: 'one process, loopback transport: losses and bytes, not speed (see bench:wan for shaped links)',
  results: results.map((r) => ({
    ...r,
    ...(sync
      ? { loss_vs_sync: r.final_loss / sync.final_loss, bytes_vs_sync: r.bytes_per_token / sync.bytes_per_token }
      : {}),
  })),
};
process.stdout.write(`${JSON.stringify(report, null, values.json ? 0 : 2)}\n`);
