// Mixed precision against f32 on the same tokens: one layout trained with precision fp32, fp16
// (dynamic loss scaling) and bf16, every rank in this process (WebGPU through Dawn, the loopback
// transport between ranks). fp16 / bf16 keep weights and activations in 16 bits in GPU memory
// (half_storage, the default); fp16-wire / bf16-wire only what travels between ranks. Prints one
// JSON object: per precision the loss of every step (the last stage's), the validation loss, the
// steps skipped for overflow and the loss scales, the bytes each rank sent, its GPU memory by
// purpose (measured from the allocations) next to `plan`'s count, and the differences from f32's.
//   node --import tsx --import ./tools/register-raw.mjs bench/precision.ts --json [--steps 60] [--pp 2] [--tp 1]
//        [--dp 1] [--layers 2] [--hidden 32] [--seq 32] [--micro 4] [--initial-scale-power 16]
//        [--precisions fp32,fp16,bf16,fp16-wire,bf16-wire,bf16-weights,bf16-activations]
import { parseArgs } from 'node:util';
import { resolveConfig } from '../src/config/resolve';
import { defaultCorpus } from '../src/data/corpus';
import { createNodeContext } from '../src/gpu/device-node';
import { trainLoopbackRanks } from '../src/train/distributed/loopback-ranks';
import type { RankMemory, TrainEvent } from '../src/train/events';
import { configuredLayout, planFor } from '../src/train/elastic/layout';
import { describePrecision } from '../src/train/precision';
import type { TrainConfig } from '../src/train/setup';
import { ensureDawnEnv } from './layouts/dawn-env';

ensureDawnEnv();

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    steps: { type: 'string', default: '60' },
    pp: { type: 'string', default: '2' },
    tp: { type: 'string', default: '1' },
    dp: { type: 'string', default: '1' },
    layers: { type: 'string', default: '2' },
    hidden: { type: 'string', default: '32' },
    seq: { type: 'string', default: '32' },
    micro: { type: 'string', default: '4' },
    'initial-scale-power': { type: 'string', default: '16' },
    /** comma-separated subset of the names below (fp32 always runs: the others are compared with it) */
    precisions: { type: 'string', default: 'fp32,fp16,bf16' },
  },
});
const [steps, pp, tp, dp, layers, hidden, seq, micro] = [
  'steps',
  'pp',
  'tp',
  'dp',
  'layers',
  'hidden',
  'seq',
  'micro',
].map((k) => Number(values[k as keyof typeof values]));
const world = pp * tp * dp;

const model = {
  num_layers: layers,
  hidden_size: hidden,
  num_attention_heads: 4,
  seq_length: seq,
  train_micro_batch_size_per_gpu: micro,
  gradient_accumulation_steps: 2,
  train_iters: steps,
  eval_interval: steps,
  eval_iters: 4,
  tokenizer_type: 'CharLevelTokenizer',
  optimizer: { type: 'Adam', params: { lr: 2e-3, betas: [0.9, 0.95] } },
  gradient_clipping: 1.0,
  hidden_dropout: 0,
  attention_dropout: 0,
  warmup: 0.05,
  sample_tokens: 0,
  pipe_parallel_size: pp,
  model_parallel_size: tp,
  global_num_gpus: world,
};

const fp16 = { fp16: { enabled: true, loss_scale: 0, initial_scale_power: Number(values['initial-scale-power']) } };
const wireOnly = { half_storage: { weights: false, activations: false } };
const precisions: Record<string, Record<string, unknown>> = {
  fp32: {},
  fp16,
  bf16: { bf16: { enabled: true } },
  'fp16-wire': { ...fp16, ...wireOnly },
  'bf16-wire': { bf16: { enabled: true }, ...wireOnly },
  // one part of the storage at a time
  'bf16-weights': { bf16: { enabled: true }, half_storage: { weights: true, activations: false } },
  'bf16-activations': { bf16: { enabled: true }, half_storage: { weights: false, activations: true } },
};

const text = (await defaultCorpus()).slice(0, 400_000);
const ctx = await createNodeContext({ preferSwiftShader: true });

async function train(extra: Record<string, unknown>) {
  const { config } = resolveConfig([{ file: 'bench', data: { ...model, ...extra } }]);
  const t0 = performance.now();
  const { out, events, bytes } = await trainLoopbackRanks(ctx, config as unknown as TrainConfig, text, world, {
    collectives: 'host', // the bytes on the wire are what it reports
  });
  const plan = planFor(config as unknown as TrainConfig, configuredLayout(config as unknown as TrainConfig, world));
  const last = world - 1; // a last-stage rank: its step losses are the run's
  const stepsOf = (r: number) => events[r].filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step');
  const memory = events.map((ev) => (ev.find((e) => e.kind === 'start') as { memory?: RankMemory }).memory!);
  return {
    runs: describePrecision(config),
    seconds: (performance.now() - t0) / 1000,
    losses: stepsOf(last).map((s) => s.loss),
    validLoss: out[last].validLoss,
    skipped: stepsOf(last)
      .filter((s) => s.skipped)
      .map((s) => s.step),
    lossScales: stepsOf(last).map((s) => s.lossScale ?? null),
    bytesSentPerRank: bytes,
    gpuBytesPerRank: memory.map((m) => m.paramBytes + m.gradBytes + m.optimizerBytes + m.activationBytes),
    memory: memory[0],
    planned: plan.stages[plan.grid.coords[0].pp].memory,
  };
}

const results: Record<string, Awaited<ReturnType<typeof train>>> = {};
const wanted = new Set(['fp32', ...values.precisions.split(',')]);
for (const [name, extra] of Object.entries(precisions).filter(([n]) => wanted.has(n))) {
  results[name] = await train(extra);
  console.error(`${name}: valid ${results[name].validLoss.toFixed(4)} (${results[name].seconds.toFixed(0)} s)`);
}
const f32 = results.fp32;
const compared = Object.fromEntries(
  Object.entries(results).map(([name, r]) => {
    const diffs = r.losses.map((l, i) => l - f32.losses[i]);
    const sent = r.bytesSentPerRank.reduce((a, b) => a + b, 0) / f32.bytesSentPerRank.reduce((a, b) => a + b, 0);
    return [
      name,
      {
        ...r,
        vsF32: {
          maxAbsStepLossDiff: Math.max(...diffs.map(Math.abs)),
          meanStepLossDiff: diffs.reduce((a, b) => a + b, 0) / diffs.length,
          maxRelStepLossDiff: Math.max(...diffs.map((d, i) => Math.abs(d) / f32.losses[i])),
          validLossDiff: r.validLoss - f32.validLoss,
          bytesSentRatio: sent,
          gpuBytesRatio: r.gpuBytesPerRank[0] / f32.gpuBytesPerRank[0],
        },
      },
    ];
  }),
);
const report = { layout: { pp, tp, dp, world }, steps, model: { ...model, text_chars: text.length }, compared };
console.log(values.json ? JSON.stringify(report) : JSON.stringify(report, null, 2));
process.exit(0);
