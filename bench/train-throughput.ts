// Single-rank training throughput (tokens/s) of a NeoX config on WebGPU through Dawn in Node,
// on random tokens. Prints one JSON object. On a GPU machine (see ../shared/gpu/README.md):
//   node tools/bundle-node.mjs build bench/train-throughput.ts && ../shared/gpu/pack.sh build/train-throughput.mjs
//   bash .gpu/run.sh train-throughput.mjs bench/configs/125M.yml --micro 1 --steps 5 [--attention-backward fused|recompute|stored]
// tokens_per_s: steps kept in flight (the host records the next step while the GPU runs this one), as
// PyTorch's mean rate in torch_gpt.py; then the same number of steps each waited for: waited_tokens_per_s,
// step_ms and median_tokens_per_s (as torch_gpt.py's step_ms).
// --profile: after the timed steps, one more step with every dispatch and clear timed on its own
// (timestamp queries, src/gpu/profiler.ts); the JSON then holds `profile`: GPU ms per kernel label.
// --host-trace: each timed step's host calls and GPU completions (host-trace.ts) in `host_trace`,
// with every submit's timeline for the steps over 1.3 × the median and for the median one.
// --profile-steps N: N more steps, each profiled like --profile, summarized in `profiled_steps`
// (wall ms, GPU ms timed and spanned, largest idle gaps; per label for the slow ones).
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load-files';
import { gpt2BpeTokenizer, getTokenizer } from '../src/data/tokenizer';
import { createNodeContext } from '../src/gpu/device-node';
import { HostTrace, type StepTrace } from './host-trace';
import { DispatchProfiler, type StepProfile } from '../src/gpu/profiler';
import { type AttentionBackward, fusionFor, localDims } from '../src/model/activations';
import { initFlat } from '../src/model/init';
import { adamHyper, lrSchedule, modelSpec, type TrainConfig } from '../src/train/setup';
import { Trainer } from '../src/train/trainer';
import { randint } from '../src/util/rng';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    micro: { type: 'string', default: '1' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    seq: { type: 'string' },
    layers: { type: 'string' },
    'attention-backward': { type: 'string' },
    profile: { type: 'boolean', default: false },
    'host-trace': { type: 'boolean', default: false },
    'profile-steps': { type: 'string', default: '0' },
    'profile-rows': { type: 'string', default: '40' },
  },
});
const attentionBackward = values['attention-backward'];
if (attentionBackward !== undefined && !['fused', 'recompute', 'stored'].includes(attentionBackward))
  throw new Error(`--attention-backward must be fused, recompute or stored, got ${attentionBackward}`);
const overrides: Record<string, unknown> = {};
if (values.seq) overrides.seq_length = Number(values.seq);
if (values.layers) overrides.num_layers = Number(values.layers);
const { config } = loadConfig(positionals.length ? positionals : ['bench/configs/125M.yml'], overrides);
const c = config as unknown as TrainConfig;
const tokenizer = c.tokenizer_type ? getTokenizer(c.tokenizer_type) : gpt2BpeTokenizer;
const spec = { ...modelSpec(c, tokenizer), hiddenDropout: 0, attentionDropout: 0 };
const micro = Number(values.micro),
  steps = Number(values.steps),
  warm = Number(values.warmup);
const profileSteps = Number(values['profile-steps']);
const ctx = await createNodeContext({ exactTimestamps: values.profile || profileSteps > 0 });
const trainer = new Trainer(ctx, {
  spec,
  microBatchSize: micro,
  gradAccumSteps: 1,
  adam: adamHyper(c),
  schedule: lrSchedule(c),
  attentionBackward: attentionBackward as AttentionBackward | undefined,
});
trainer.loadParams(initFlat(trainer.model.layout, c.seed));
const N = micro * spec.T;
const batch = () => {
  const seq = randint(N + 1, tokenizer.vocabSize, 7);
  return { tokens: seq.subarray(0, N), targets: seq.subarray(1, N + 1) };
};
const b = batch();
for (let i = 0; i < warm; i++) await trainer.trainStep([b]);
// Steps kept in flight, as PyTorch's asynchronous loop runs them (torch_gpt.py's mean rate): the
// host records step n + 1 while the GPU finishes step n (Trainer.trainStep, single-rank.ts).
const f0 = performance.now();
let inFlight = trainer.trainStep([b]);
for (let i = 1; i < steps; i++) {
  const next = trainer.trainStep([b]);
  await inFlight;
  inFlight = next;
}
const flightLoss = (await inFlight).loss;
const flightSec = (performance.now() - f0) / 1000;
// then each step waited for, as a loop that needs every loss before it goes on (and torch_gpt.py's step_ms)
const trace = values['host-trace'] ? new HostTrace() : null;
if (trace) for (const m of ['beginStep', 'upload', 'applyUpdate'] as const) trace.wrap(trainer, m);
const traces: StepTrace[] = [];
const t0 = performance.now();
let loss = NaN;
const stepMs: number[] = [];
for (let i = 0; i < steps; i++) {
  const s0 = performance.now();
  trace?.begin();
  loss = (await trainer.trainStep([b])).loss;
  stepMs.push(performance.now() - s0);
  if (trace) traces.push(trace.end(true));
}
const sec = (performance.now() - t0) / 1000;
// the median step: what one hiccup of a shared machine does not move
const medianMs = [...stepMs].sort((x, y) => x - y)[Math.floor(steps / 2)];
const medianIndex = stepMs.indexOf(medianMs);
const hostTrace = traces.map((t, i) => {
  if (i === medianIndex || t.step_ms > 1.3 * medianMs) return { step: i, ...t };
  const { timeline: _, ...rest } = t;
  return { step: i, ...rest };
});
let profile: (StepProfile & { stepMs: number }) | undefined;
if (values.profile) {
  ctx.profiler = new DispatchProfiler(ctx.device);
  const p0 = performance.now();
  await trainer.trainStep([b]);
  const stepMs = performance.now() - p0;
  profile = { stepMs, ...(await ctx.profiler.collect(Number(values['profile-rows']))) };
  ctx.profiler = null;
}
const profiled: (Omit<StepProfile, 'byDispatch' | 'byLabel'> & { stepMs: number; byLabel?: StepProfile['byLabel'] })[] =
  [];
for (let i = 0; i < profileSteps; i++) {
  ctx.profiler = new DispatchProfiler(ctx.device);
  const p0 = performance.now();
  await trainer.trainStep([b]);
  const stepMs = performance.now() - p0;
  const { byDispatch: _, byLabel, ...rest } = await ctx.profiler.collect(0);
  ctx.profiler = null;
  profiled.push({ stepMs, ...rest, largestGaps: rest.largestGaps.slice(0, 3), byLabel: byLabel.slice(0, 8) });
}
const medianSpan = [...profiled.map((p) => p.spanMs)].sort((x, y) => x - y)[Math.floor(profiled.length / 2)];
for (const p of profiled) if (p.spanMs < 1.3 * medianSpan) delete p.byLabel;
// 6·params·tokens for the weights plus attention's 12·L·T·C per token (forward+backward)
const flopsPerToken = 6 * trainer.model.layout.count + 12 * spec.L * spec.T * spec.C;
console.log(
  JSON.stringify({
    impl: 'tabtron-webgpu',
    adapter: `${ctx.adapter?.vendor}/${ctx.adapter?.architecture}`,
    params: trainer.model.layout.count,
    layers: spec.L,
    hidden: spec.C,
    seq: spec.T,
    micro_batch: micro,
    attention_backward:
      fusionFor(ctx, spec, localDims(spec, 1), micro, attentionBackward as AttentionBackward | undefined)
        .attentionBackward ?? 'unfused',
    activation_bytes: trainer.model.activationBytes,
    steps,
    seconds: flightSec,
    tokens_per_s: (N * steps) / flightSec,
    in_flight_last_loss: flightLoss,
    waited_seconds: sec,
    waited_tokens_per_s: (N * steps) / sec,
    step_ms: stepMs.map((ms) => Math.round(ms * 1000) / 1000),
    median_tokens_per_s: N / (medianMs / 1000),
    model_tflops: (flopsPerToken * N * steps) / flightSec / 1e12,
    last_loss: loss,
    ...(profile ? { profile } : {}),
    ...(trace ? { host_trace: hostTrace } : {}),
    ...(profileSteps ? { profiled_steps: profiled } : {}),
  }),
);
process.exit(0);
