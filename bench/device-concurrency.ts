// Do two WebGPU devices of one process run their kernels at the same time on one GPU? Each device
// gets the same chain of small dispatches (`workgroups` workgroups that each spin `iters` dependent
// multiply-adds, one after the other: a latency-bound chain like a TP rank's half-width kernels). Prints
// one JSON object: wall ms of the chain on one device alone, and of the two chains submitted together
// on two devices. ratio ≈ 1: they overlapped; ≈ 2: the GPU ran one device's work after the other's.
//   node tools/bundle-node.mjs build bench/device-concurrency.ts && bash .gpu/run.sh device-concurrency.mjs
//   [--dispatches 200] [--workgroups 16] [--iters 20000] [--reps 5]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createNodeContext } from '../src/gpu/device-node';
import { median } from './layouts/analyze';

const { values } = parseArgs({
  options: {
    dispatches: { type: 'string', default: '200' },
    workgroups: { type: 'string', default: '16' },
    iters: { type: 'string', default: '20000' },
    reps: { type: 'string', default: '5' },
  },
});
const dispatches = Number(values.dispatches);
const workgroups = Number(values.workgroups);
const reps = Number(values.reps);
const preferSwiftShader = !existsSync('/dev/nvidiactl');

async function chainOn() {
  const ctx = await createNodeContext({ preferSwiftShader });
  const device = ctx.device;
  const module = device.createShaderModule({
    code: /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var v = x[g.x];
  for (var i = 0u; i < ${Number(values.iters)}u; i++) { v = v * 0.999 + 0.001; }
  x[g.x] = v;
}`,
  });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const buffer = device.createBuffer({ size: workgroups * 64 * 4, usage: GPUBufferUsage.STORAGE });
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: { buffer } }],
  });
  /** submits the chain; resolves when the GPU has finished it */
  return () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    for (let i = 0; i < dispatches; i++) pass.dispatchWorkgroups(workgroups);
    pass.end();
    device.queue.submit([enc.finish()]);
    return device.queue.onSubmittedWorkDone();
  };
}

const [a, b] = [await chainOn(), await chainOn()];
await Promise.all([a(), b()]); // warm-up
const wall = async (run: () => Promise<unknown>) => {
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return Math.round(median(times) * 100) / 100;
};
const alone = await wall(a);
const together = await wall(() => Promise.all([a(), b()]));
const sameDevice = await wall(() => Promise.all([a(), a()]));
console.log(
  JSON.stringify({
    bench: 'device-concurrency',
    dispatches,
    workgroups,
    iters: Number(values.iters),
    alone_ms: alone,
    two_devices_ms: together,
    one_device_twice_ms: sameDevice,
    two_devices_ratio: Math.round((together / alone) * 100) / 100,
    one_device_twice_ratio: Math.round((sameDevice / alone) * 100) / 100,
  }),
);
process.exit(0);
