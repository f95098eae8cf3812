// Dawn's polls are spaced on CPU devices only, and JS code's setImmediate keeps its meaning.
import { describe, expect, it } from 'vitest';
import { isCpuAdapter } from './dawn-polling';
import { sharedTestContext } from './test-context';

describe('Dawn polling on a CPU device', () => {
  it('SwiftShader counts as a CPU adapter, a discrete GPU does not', async () => {
    const ctx = await sharedTestContext();
    const swiftshader = ctx.adapter!;
    expect(isCpuAdapter(swiftshader)).toBe(true);
    const h200 = { ...swiftshader, isFallbackAdapter: false, vendor: 'nvidia', architecture: 'hopper' };
    expect(isCpuAdapter({ ...h200, description: 'NVIDIA H200' })).toBe(false);
  });

  it("a JS callback still runs before the next timer; Dawn's readbacks still complete", async () => {
    const ctx = await sharedTestContext();
    const order: string[] = [];
    await new Promise<void>((done) => {
      setTimeout(() => {
        order.push('timer');
        done();
      }, 0);
      setImmediate(() => order.push('immediate'));
    });
    expect(order).toEqual(['immediate', 'timer']);
    const data = Float32Array.from({ length: 1024 }, (_, i) => i * 0.5);
    const t = ctx.tensor([1024], 'probe');
    ctx.write(t, data);
    expect(Array.from(await ctx.read(t))).toEqual(Array.from(data));
  });
});
