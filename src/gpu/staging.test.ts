// Readbacks through the staging ring (Dawn + SwiftShader here): right bytes for any size and
// view offset, several in flight at once, buffers reused instead of created per read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from './context';
import { createNodeContext } from './device-node';
import { stagingSize } from './staging';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createNodeContext({ preferSwiftShader: true });
});
afterAll(() => ctx?.device.destroy());

const ramp = (n: number, from = 0) => Float32Array.from({ length: n }, (_, i) => from + i * 0.5);

describe('GpuContext readbacks through the staging ring', () => {
  it('reads views of every size back exactly, many at once, reusing the staging buffers', async () => {
    const big = ctx.tensorFrom(ramp(300_000), [300_000]);
    const views = [1, 3, 64, 1000, 70_000, 299_000].map((length, i) => ({
      ...big,
      offset: i * 256,
      length,
      shape: [length],
    }));
    const before = ctx.staging.summary();
    for (let round = 0; round < 3; round++) {
      const got = await Promise.all(views.map((v) => ctx.read(v)));
      got.forEach((g, i) => expect(g).toEqual(ramp(views[i].length, (views[i].offset / 4) * 0.5)));
    }
    const after = ctx.staging.summary();
    // the first round may create one buffer per read in flight; later rounds create none
    expect(after.created - before.created).toBeLessThanOrEqual(views.length);
    expect(after.reused - before.reused).toBeGreaterThanOrEqual(2 * views.length);
  });

  it('readMany: several tensors in one copy and one map', async () => {
    const a = ctx.tensorFrom(ramp(5), [5]);
    const b = ctx.tensorFrom(Int32Array.from([7, -1, 3]), [3]);
    const [ra, rb] = await ctx.readMany([a, b]);
    expect(new Float32Array(ra)).toEqual(ramp(5));
    expect(new Int32Array(rb)).toEqual(Int32Array.from([7, -1, 3]));
  });

  it('large writes go through the upload ring: exact at any offset, in queue order, buffers reused', async () => {
    const before = ctx.uploadRingBytes;
    ctx.uploadRingBytes = 1024;
    try {
      const t = ctx.tensor([100_000]);
      for (let round = 0; round < 4; round++) {
        const data = ramp(50_000, round);
        ctx.write({ ...t, offset: 4096, length: 50_000 }, data);
        ctx.write({ ...t, offset: 4096 + 40_000 * 4, length: 10_000 }, ramp(10_000, -round)); // later write wins
        const got = await ctx.read({ ...t, offset: 4096, length: 50_000 });
        expect(got.subarray(0, 40_000)).toEqual(data.subarray(0, 40_000));
        expect(got.subarray(40_000)).toEqual(ramp(10_000, -round));
        await ctx.sync();
      }
    } finally {
      ctx.uploadRingBytes = before;
    }
  });

  it('sizes staging buffers in powers of two from 64 KiB', () => {
    expect(stagingSize(1)).toBe(65536);
    expect(stagingSize(65537)).toBe(131072);
    expect(stagingSize(2 ** 23)).toBe(2 ** 23);
  });
});
