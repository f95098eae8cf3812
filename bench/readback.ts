// GPU → host readback cost, the wait under every pipeline send, TP sum and gradient bucket:
// a fresh MAP_READ buffer per read (created, mapped, destroyed: how GpuContext read before) against
// GpuContext.read through its ring of reusable staging buffers, readInto (the same into host memory
// that is reused), and readMany of two tensors against
// two reads; and host → GPU writes through queue.writeBuffer against the upload ring (each timed to
// the GPU's completion). Per size: median ms over `--reps` with the GPU idle. Prints one JSON object.
//   node --import tsx --import ./tools/register-raw.mjs bench/readback.ts [--reps 20] [--hardware]
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { GpuContext } from '../src/gpu/context';
import { createNodeContext } from '../src/gpu/device-node';
import type { GpuTensor } from '../src/gpu/tensor';

const { values } = parseArgs({
  options: { reps: { type: 'string', default: '20' }, hardware: { type: 'boolean', default: false } },
});
const reps = Number(values.reps);
const ctx = await createNodeContext({ preferSwiftShader: !values.hardware && !existsSync('/dev/nvidiactl') });

async function freshRead(c: GpuContext, t: GpuTensor): Promise<ArrayBuffer> {
  const bytes = t.length * 4;
  const staging = c.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = c.device.createCommandEncoder();
  enc.copyBufferToBuffer(t.buffer, t.offset, staging, 0, bytes);
  c.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return out;
}

async function median(f: () => Promise<unknown>): Promise<number> {
  await f();
  await f();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await f();
    ms.push(performance.now() - t0);
  }
  ms.sort((a, b) => a - b);
  return ms[ms.length >> 1];
}

const sizes = [4 << 10, 2 << 20, 8 << 20, 64 << 20];
const rows = [];
for (const bytes of sizes) {
  const n = bytes / 4;
  const t = ctx.tensorFrom(
    Float32Array.from({ length: n }, (_, i) => i % 1000),
    [n],
  );
  const u = ctx.tensorFrom(new Float32Array(n), [n]);
  const fresh = await median(() => freshRead(ctx, t));
  const ring = await median(() => ctx.read(t));
  const dst = new Float32Array(n);
  const into = await median(() => ctx.readInto(t, dst));
  const two = await median(() => Promise.all([ctx.read(t), ctx.read(u)]));
  const many = await median(() => ctx.readMany([t, u]));
  const host = new Float32Array(n).fill(1);
  const writeBuffer = await median(async () => {
    ctx.device.queue.writeBuffer(u.buffer, 0, host.buffer, 0, bytes);
    await ctx.sync();
  });
  const uploadRing = await median(async () => {
    ctx.uploads.write(u.buffer, 0, host);
    await ctx.sync();
  });
  const gbs = (ms: number) => +(bytes / ms / 1e6).toFixed(2);
  rows.push({
    bytes,
    fresh_ms: +fresh.toFixed(3),
    ring_ms: +ring.toFixed(3),
    fresh_gb_s: gbs(fresh),
    ring_gb_s: gbs(ring),
    ring_speedup: +(fresh / ring).toFixed(2),
    read_into_ms: +into.toFixed(3),
    two_reads_ms: +two.toFixed(3),
    read_many_ms: +many.toFixed(3),
    write_buffer_ms: +writeBuffer.toFixed(3),
    upload_ring_ms: +uploadRing.toFixed(3),
  });
  t.buffer.destroy();
  u.buffer.destroy();
}
const a = ctx.adapter;
console.log(
  JSON.stringify({
    bench: 'readback',
    adapter: a ? `${a.vendor} / ${a.device || a.description}` : 'unknown',
    reps,
    staging: ctx.staging.summary(),
    rows,
  }),
);
process.exit(0);
