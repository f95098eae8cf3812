// The rank worker's side of the comm checks: tensors go to the page's transport through
// the worker bridge (buffers transferred, never copied), and the GPU reduction is timed.
import * as Comlink from 'comlink';
import { commClient, type GroupSpec } from '../../src/comm/worker-bridge';
import { createBrowserContext } from '../../src/gpu/device-browser';
import { addInto } from '../../src/gpu/kernels/elementwise';
import { testSlice, testTensor } from '../../src/comm/test-helpers';
import type { CollectiveName } from './comm';

let client: ReturnType<typeof commClient> | undefined;

async function collective(
  op: CollectiveName,
  input: Float32Array,
  g: GroupSpec,
  root: number,
): Promise<Float32Array | undefined> {
  const c = client!;
  switch (op) {
    case 'allReduce':
      return c.allReduce(input, g, 'sum');
    case 'allReduceAvg':
      return c.allReduce(input, g, 'avg');
    case 'reduceScatter':
      return c.reduceScatter(input, g, 'sum');
    case 'allGather':
      return c.allGather(input, g);
    case 'allGatherSlice':
      return c.allGather(input, { ...g, slice: testSlice(input.length) });
    case 'broadcast':
      return c.broadcast(input, g, root);
    case 'barrier':
      await c.barrier(g);
      return undefined;
  }
}

const api = {
  init(port: MessagePort): void {
    client = commClient(port);
  },

  async run(op: CollectiveName, buf: ArrayBuffer, g: GroupSpec, root: number): Promise<ArrayBuffer | undefined> {
    if (!client) throw new Error('comm worker: init() first');
    const input = new Float32Array(buf);
    const out = await collective(op, input, g, root);
    if (input.length > 0 && input.buffer.byteLength !== 0)
      throw new Error(`${op}: the worker's buffer was copied to the page instead of transferred`);
    return out && Comlink.transfer(out.buffer as ArrayBuffer, [out.buffer as ArrayBuffer]);
  },

  /** GPU reduction of n floats as the ring would use it: upload both operands, add, read back. */
  async gpuReduceMBps(n: number, reps: number): Promise<{ MBps: number; kernelMBps: number; detail: string }> {
    const ctx = await createBrowserContext();
    try {
      const a = testTensor(1, n);
      const b = testTensor(2, n);
      const acc = ctx.tensorFrom(a, [n], 'acc');
      const inc = ctx.tensorFrom(b, [n], 'incoming');
      const d = addInto(ctx, acc, inc);
      await ctx.read(acc);
      let t0 = performance.now();
      let out = a;
      for (let r = 0; r < reps; r++) {
        ctx.write(acc, a);
        ctx.write(inc, b);
        ctx.run([d]);
        out = await ctx.read(acc);
      }
      const roundTrip = (performance.now() - t0) / reps;
      t0 = performance.now();
      for (let r = 0; r < reps; r++) ctx.run([d]);
      await ctx.sync();
      const kernel = (performance.now() - t0) / reps;
      let same = true;
      for (let i = 0; i < n && same; i++) same = Object.is(out[i], Math.fround(b[i] + a[i]));
      return {
        MBps: (n * 4) / 1e3 / roundTrip,
        kernelMBps: (n * 4) / 1e3 / kernel,
        detail: `${ctx.adapter?.vendor}/${ctx.adapter?.architecture}; matches CPU bits: ${same}`,
      };
    } finally {
      ctx.device.destroy();
    }
  },
};

export type CommWorkerApi = typeof api;
Comlink.expose(api);
