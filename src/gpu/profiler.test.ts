// The step profiler (Dawn + SwiftShader here): every dispatch and clear gets its own timed pass,
// the rows count and sum them per label, and timing changes no result.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuContext } from './context';
import { createNodeContext } from './device-node';
import { add, copy } from './kernels/elementwise';
import { DispatchProfiler } from './profiler';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createNodeContext({ preferSwiftShader: true, exactTimestamps: true });
});
afterAll(() => ctx?.device.destroy());

const ramp = (n: number, k: number) => Float32Array.from({ length: n }, (_, i) => k * i);

describe('DispatchProfiler', () => {
  it('times each dispatch and clear under its label, and the results are those of an untimed run', async () => {
    const n = 1 << 16;
    const a = ctx.tensorFrom(ramp(n, 1), [n], 'a');
    const b = ctx.tensorFrom(ramp(n, 2), [n], 'b');
    const sum = ctx.tensor([n], 'sum');
    const twice = ctx.tensor([n], 'twice');
    const copied = ctx.tensor([n], 'copied');
    ctx.profiler = new DispatchProfiler(ctx.device);
    ctx.run([add(ctx, a, b, sum), copy(ctx, sum, copied), add(ctx, sum, copied, twice)]);
    const enc = ctx.device.createCommandEncoder();
    ctx.clear(enc, a.buffer, 0, a.length * 4, 'a');
    ctx.device.queue.submit([enc.finish()]);
    const p = await ctx.profiler.collect();
    ctx.profiler = null;

    expect(await ctx.read(twice)).toEqual(ramp(n, 6));
    expect(await ctx.read(a)).toEqual(new Float32Array(n));
    expect({ dispatches: p.dispatches, clears: p.clears }).toEqual({ dispatches: 3, clears: 1 });
    const counts = Object.fromEntries(p.byLabel.map((r) => [r.label, r.count]));
    expect(counts).toEqual({ add: 2, copy: 1, 'clear a': 1 });
    for (const r of p.byLabel) expect(r.ms).toBeGreaterThan(0);
    const total = p.byLabel.reduce((s, r) => s + r.ms, 0);
    expect(Math.abs(total - p.timedMs)).toBeLessThan(0.01);
    expect(p.spanMs).toBeGreaterThanOrEqual(p.timedMs - 0.01);
    expect(p.largestGaps).toHaveLength(3);
    expect(p.byDispatch.find((r) => r.label.startsWith('add '))?.count).toBe(2);
  });

  it('starts over after collect, and spreads more than one query set of items', async () => {
    const t = ctx.tensorFrom(ramp(64, 1), [64], 't');
    const out = ctx.tensor([64], 'out');
    ctx.profiler = new DispatchProfiler(ctx.device);
    ctx.run(Array.from({ length: 2100 }, () => copy(ctx, t, out))); // 4200 queries: two sets
    const many = await ctx.profiler.collect();
    const none = await ctx.profiler.collect();
    ctx.profiler = null;
    expect(many.dispatches).toBe(2100);
    expect(many.byLabel).toEqual([expect.objectContaining({ label: 'copy', count: 2100 })]);
    expect(none.dispatches).toBe(0);
    expect(await ctx.read(out)).toEqual(ramp(64, 1));
  });
});
