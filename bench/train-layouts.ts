// Training throughput and pipeline efficiency per parallel layout: every rank of a layout
// runs in this process over the loopback transport on one WebGPU device (Dawn; SwiftShader on a
// machine without a GPU), a small GPT from configs/tiny.yml, warmup + measured steps.
// Prints tokens/s, step time, per-stage breakdown (compute, p2p wait, all-reduce, optimizer)
// and, for pipelines, the efficiency next to the ideal m/(m + P − 1): measured with the ranks
// sharing this machine, and replayed as if each stage had its own device (bench/layouts/analyze.ts).
//   npm run bench:train -- [--json] [--layouts pp4-m16,tp2,...] [--steps 3] [--warmup 1] [--replay-steps 2]
//       [--layers 8] [--hidden 32] [--heads 4] [--seq 32] [--micro 2] [--micro-batches 4 (m of the non-sweep layouts)]
//       [--partition <pipe_partition_method>] [--config a.yml ...] [--no-replay] [--hardware (no SwiftShader)]
//       [--host-collectives (TP sums, DP buckets and pipeline tensors over the loopback transport, as
//        before: the default runs collectives among these co-located ranks on the GPU device,
//        src/gpu/device-collectives.ts, and copies f32 pipeline tensors there, src/gpu/device-p2p.ts)]
//       [--profile (per layout, one more run of 2 steps with every dispatch timed, src/gpu/profiler.ts:
//        dispatches and GPU-busy ms per step, mean µs a dispatch, the largest labels; needs timestamp-query)]
// Bundled for a GPU machine (see bench/README.md):
//   TABTRON_NO_BANNER=1 node tools/bundle-node.mjs build bench/train-layouts.ts && ../shared/gpu/pack.sh build/train-layouts.mjs
import { existsSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { defaultCorpus } from '../src/data/corpus';
import { createNodeContext } from '../src/gpu/device-node';
import { DispatchProfiler } from '../src/gpu/profiler';
import { analyze, type LayoutNumbers } from './layouts/analyze';
import { catalog, pickLayouts, type ModelSize } from './layouts/catalog';
import { ensureDawnEnv } from './layouts/dawn-env';
import { runLayout } from './layouts/run';
import { renderTable } from './layouts/table';

ensureDawnEnv();

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    layouts: { type: 'string', default: 'all' },
    steps: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '1' },
    'replay-steps': { type: 'string', default: '2' },
    layers: { type: 'string', default: '8' },
    hidden: { type: 'string', default: '32' },
    heads: { type: 'string', default: '4' },
    seq: { type: 'string', default: '32' },
    micro: { type: 'string', default: '2' },
    'micro-batches': { type: 'string', default: '4' },
    config: { type: 'string', multiple: true },
    partition: { type: 'string' },
    'no-replay': { type: 'boolean', default: false },
    hardware: { type: 'boolean', default: false },
    'host-collectives': { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
  },
});
const int = (name: keyof typeof values, min: number): number => {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, got ${values[name]}`);
  return v;
};
const size: ModelSize = {
  layers: int('layers', 1),
  hidden: int('hidden', 1),
  heads: int('heads', 1),
  seq: int('seq', 1),
  micro: int('micro', 1),
  partition: values.partition,
};
const steps = int('steps', 1),
  warmup = int('warmup', 0),
  replaySteps = int('replay-steps', 1);
const layouts = pickLayouts(catalog(int('micro-batches', 1)), values.layouts);
const configs = values.config ?? ['configs/tiny.yml'];
const log = (s: string) => process.stderr.write(`${s}\n`);
const collectives = values['host-collectives'] ? 'host' : 'device';
log(
  collectives === 'device'
    ? 'collectives: device-local (ranks share the GPU device: sums and pipeline copies on it, no readback; the replay run stays on the host path)'
    : 'collectives: host (readback, loopback ring, write back)',
);

// SwiftShader unless --hardware or the machine has an NVIDIA device node.
const ctx = await createNodeContext({
  preferSwiftShader: !values.hardware && !existsSync('/dev/nvidiactl'),
  exactTimestamps: values.profile,
});

const PROFILE_STEPS = 2;
/** One more run of the layout with every dispatch timed: per step, what the GPU ran and for how long. */
async function profileLayout(layout: (typeof layouts)[number]) {
  ctx.profiler = new DispatchProfiler(ctx.device);
  await runLayout(ctx, configs, text, layout, size, PROFILE_STEPS, 'shared', collectives);
  const p = await ctx.profiler.collect(0);
  ctx.profiler = null;
  const perStep = (x: number) => Math.round((x / PROFILE_STEPS) * 100) / 100;
  return {
    steps: PROFILE_STEPS,
    dispatches_per_step: perStep(p.dispatches),
    gpu_busy_ms_per_step: perStep(p.timedMs),
    gpu_span_ms_per_step: perStep(p.spanMs),
    mean_dispatch_us: Math.round((p.timedMs / Math.max(1, p.dispatches)) * 1000 * 10) / 10,
    by_label: p.byLabel.slice(0, 12).map((r) => ({ ...r, ms: perStep(r.ms), count: perStep(r.count) })),
  };
}
const text = await defaultCorpus();
const loadBefore = os.loadavg();
const t0 = performance.now();
const results: (LayoutNumbers & { profile?: Awaited<ReturnType<typeof profileLayout>> })[] = [];
for (const layout of layouts) {
  const shared = await runLayout(ctx, configs, text, layout, size, warmup + steps, 'shared', collectives);
  const serial =
    layout.pp > 1 && !values['no-replay']
      ? await runLayout(ctx, configs, text, layout, size, warmup + replaySteps, 'serial')
      : null;
  const n = analyze(shared, serial, warmup);
  results.push(values.profile ? { ...n, profile: await profileLayout(layout) } : n);
  const p = n.pipeline;
  log(
    `${layout.name}: ${n.tokens_per_s} tokens/s, step ${n.step_ms} ms${p ? `, efficiency shared ${p.efficiency_measured_shared} own-device ${p.efficiency_own_compute} (ideal ${p.ideal})` : ''} [${((shared.wallMs + (serial?.wallMs ?? 0)) / 1000).toFixed(0)} s]`,
  );
}
const cpus = os.cpus();
const a = ctx.adapter;
const head = {
  machine: `${cpus.length} × ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}, node ${process.version}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')} before, ${os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')} after`,
  adapter: a
    ? `${a.vendor} / ${a.architecture} / ${a.device || a.description}${a.isFallbackAdapter ? ' (fallback)' : ''}`
    : 'unknown',
  collectives:
    collectives === 'device'
      ? 'device-local collectives: TP sums, sequence-parallel gather/reduce-scatter and DP gradient buckets run on the shared GPU device, f32 pipeline tensors are copied there (no readback); the serial replay run uses the host path'
      : 'host collectives: readback, ring over the loopback transport, write back',
  model:
    `${configs.join(' + ')} with num_layers ${size.layers}, hidden ${size.hidden}, heads ${size.heads}, seq ${size.seq}, micro batch ${size.micro}` +
    `${size.partition ? `, pipe_partition_method ${size.partition}` : ''}; ${warmup} warmup + ${steps} measured steps (medians), replay from ${warmup} + ${replaySteps} serial steps`,
  note:
    'All ranks of a layout run in this one process and share its CPU cores, one JS thread and one GPU device; ' +
    "stage compute there includes waiting for the other ranks' GPU work. efficiency_own_compute is not measured on separate devices: " +
    "it is a replay of each op's own time (from a second run that lets one rank at a time run, bench/layouts/timed-comm.ts) " +
    "through the stages' 1F1B op lists as if each stage had its own device, each send delivered after its measured loopback time, schedule only (no gradient sync or optimizer).",
};
if (values.json) {
  console.log(
    JSON.stringify({
      bench: 'train-layouts',
      ...head,
      adapter_info: a,
      seconds: Math.round((performance.now() - t0) / 1000),
      // tokens/s against the single rank of this run (the same GPU does all the work either way)
      layouts: results.map((r) => {
        const one = results.find((x) => x.name === '1rank');
        return one ? { ...r, x_1rank: Math.round((r.tokens_per_s / one.tokens_per_s) * 1000) / 1000 } : r;
      }),
    }),
  );
} else {
  console.log(renderTable(head, results));
}
process.exit(0);
