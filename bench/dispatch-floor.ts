// What one dispatch costs the GPU when it does almost nothing: N dispatches of a kernel that adds 1 to
// each of `workgroups` × 64 floats, in one compute pass, timed by timestamp queries at the pass's
// beginning and end (GPU time, the host not involved). Prints one JSON object: µs a dispatch for
//   dependent:   every dispatch reads and writes the same buffer (Dawn puts a barrier between them,
//                as between the dependent kernels of a training step);
//   independent: each dispatch its own buffer, used for the first time (no barrier needed).
// `bench/torch_dispatch_floor.py` times the same chain of dependent kernels through PyTorch/CUDA.
//   node tools/bundle-node.mjs build bench/dispatch-floor.ts && bash .gpu/run.sh dispatch-floor.mjs
//   [--n 2000] [--reps 5] [--workgroups 1,132,1056]   (here: SwiftShader, slow; use --n 50)
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createNodeContext } from '../src/gpu/device-node';
import type { Dispatch } from '../src/gpu/dispatch';
import { median } from './layouts/analyze';
import { Timer } from './timing';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    reps: { type: 'string', default: '5' },
    workgroups: { type: 'string', default: '1,132,1056' },
  },
});
const N = Number(values.n);
const reps = Number(values.reps);

const ctx = await createNodeContext({ preferSwiftShader: !existsSync('/dev/nvidiactl'), exactTimestamps: true });
const device = ctx.device;
if (!device.features.has('timestamp-query')) throw new Error('dispatch-floor: the device has no timestamp-query');
const module = device.createShaderModule({
  code: /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x < arrayLength(&x)) { x[g.x] = x[g.x] + 1.0; }
}`,
});
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });

const buffer = (workgroups: number) =>
  device.createBuffer({ size: workgroups * 64 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const dispatchOn = (b: GPUBuffer, workgroups: number): Dispatch => ({
  label: 'add_one',
  pipeline,
  bindGroup: device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer: b } }],
  }),
  workgroups: [workgroups, 1, 1],
});
const timer = new Timer(ctx);

const rows = [];
for (const workgroups of values.workgroups.split(',').map(Number)) {
  const shared = dispatchOn(buffer(workgroups), workgroups);
  const dependent: number[] = [];
  const independent: number[] = [];
  await timer.gpuMsOfPass([shared]); // warm-up
  for (let r = 0; r < reps; r++) {
    // µs a dispatch: one pass of N dispatches, GPU ms × 1000 / N
    dependent.push(((await timer.gpuMsOfPass([shared], N)) * 1000) / N);
    const fresh = Array.from({ length: N }, () => buffer(workgroups));
    independent.push(((await timer.gpuMsOfPass(fresh.map((b) => dispatchOn(b, workgroups)))) * 1000) / N);
    for (const b of fresh) b.destroy();
  }
  const us = (xs: number[]) => Math.round(median(xs) * 100) / 100;
  rows.push({ workgroups, dependent_us: us(dependent), independent_us: us(independent) });
  const line = `${workgroups} workgroups: dependent ${us(dependent)} µs, independent ${us(independent)} µs`;
  process.stderr.write(`${line}\n`);
}
const a = ctx.adapter;
console.log(
  JSON.stringify({
    bench: 'dispatch-floor',
    adapter: a ? `${a.vendor} / ${a.architecture} / ${a.device || a.description}` : 'unknown',
    dispatches_per_pass: N,
    reps,
    rows,
  }),
);
process.exit(0);
