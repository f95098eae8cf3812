// Dev harness: a layout vs the single rank, in Node with Dawn (SwiftShader here), loopback transport.
// node --import tsx --import ./tools/register-raw.mjs tools/dev/layouts.ts '{"pipe_parallel_size":2}' 2 [accum]
import { loadConfig } from '../../src/config/load-files';
import { defaultCorpus } from '../../src/data/corpus';
import { createNodeContext } from '../../src/gpu/device-node';
import { createLoopbackWorld } from '../../src/comm/loopback';
import { directComm } from '../../src/train/distributed/rank-comm';
import { deviceWorld } from '../../src/gpu/device-collectives';
import { trainRank } from '../../src/train/distributed/rank-loop';
import { trainSingleRank } from '../../src/train/single-rank';
import type { TrainEvent } from '../../src/train/events';

const STEPS = Number(process.env.STEPS ?? 10);
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
const extra = JSON.parse(process.argv[2] ?? '{}');
const world = Number(process.argv[3] ?? 2);
const refAccum = Number(process.argv[4] ?? 1);
const ctx = await createNodeContext({ preferSwiftShader: true });
const text = await defaultCorpus();
const ref: TrainEvent[] = [];
const base = loadConfig(['configs/tiny.yml'], {
  ...tiny,
  ...extra,
  pipe_parallel_size: 0,
  model_parallel_size: 1,
  zero_optimization: { stage: 0 },
  gradient_accumulation_steps: refAccum,
}).config;
let t0 = performance.now();
await trainSingleRank(ctx, base as any, { kind: 'text', text }, (e) => ref.push(e), { maxSteps: STEPS });
const tRef = performance.now() - t0;
const cfg = loadConfig(['configs/tiny.yml'], { ...tiny, ...extra }).config;
const loop = createLoopbackWorld(world);
// the ranks share the device: their collectives run on it (HOST_COLLECTIVES=1: over the loopback ring)
const hub = process.env.HOST_COLLECTIVES ? null : deviceWorld(ctx, world);
const device = hub ? loop.transports.map((_, r) => hub.member(r)) : null;
const events: TrainEvent[][] = Array.from({ length: world }, () => []);
t0 = performance.now();
await Promise.all(
  events.map((ev, r) =>
    trainRank(
      ctx,
      cfg as any,
      { kind: 'text', text },
      { comm: directComm(loop.transports[r], device?.[r]), rank: r, world },
      (e) => ev.push(e),
      {
        maxSteps: STEPS,
      },
    ),
  ),
);
const tLay = performance.now() - t0;
const want = ref.filter((e) => e.kind === 'step').map((e: any) => e.loss);
let worst = 0;
for (const ev of events) {
  const got = ev.filter((e) => e.kind === 'step').map((e: any) => e.loss);
  got.forEach((l, i) => (worst = Math.max(worst, Math.abs(l - want[i]) / want[i])));
  if (got.length !== want.length) worst = Infinity;
}
console.log(
  JSON.stringify({
    want: want.map((x) => +x.toFixed(5)),
    got: events[0].filter((e) => e.kind === 'step').map((e: any) => +e.loss.toFixed(5)),
    worst,
    tRef: Math.round(tRef),
    tLay: Math.round(tLay),
  }),
);
process.exit(0);
