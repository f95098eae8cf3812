// matmul_f16.wgsl on Mesa's lavapipe (Dawn in Node; the one device here with shader-f16) against
// the f64 CPU reference: the kernel check's cases (every output within f16MatmulErrorBound of the
// exact product, every transpose, batches with strides, beta, edges); f16 arithmetic visibly happens
// (2048 + 1 is 2048 in f16, sums past four k are f32); and the path selection: f16 iff the format is
// fp16 and the device has shader-f16.
// This file runs in a Vitest process of its own (VK_ICD_FILENAMES is per process); without
// lavapipe it fails, naming the install.
import { describe, expect, it } from 'vitest';
import { matmulRef } from '../../reference/matmul';
import { randn } from '../../util/rng';
import { GpuContext, summarizeAdapter } from '../context';
import { sharedLavapipeContext } from '../test-context';
import { F16_CASES, matmulF16Check } from '../checks/matmul-f16.check';
import { matmul, type MatmulSpec } from './matmul';
import { arithmeticFor, hasShaderF16, matmulF16 } from './matmul-f16';

async function runBoth(ctx: GpuContext, spec: MatmulSpec, a: Float32Array, b: Float32Array, c: Float32Array) {
  const [ta, tb] = [ctx.tensorFrom(a), ctx.tensorFrom(b)];
  const [c16, c32] = [ctx.tensorFrom(c), ctx.tensorFrom(c)];
  ctx.run([matmulF16(ctx, ta, tb, c16, spec), ...matmul(ctx, ta, tb, c32, spec)]);
  return { f16: await ctx.read(c16), f32: await ctx.read(c32) };
}

/** matmul_f16's C[0] for a 1×1 product over K = a.length */
async function dotF16(ctx: GpuContext, a: Float32Array, b: Float32Array): Promise<number> {
  const c = ctx.tensor([1]);
  ctx.run([matmulF16(ctx, ctx.tensorFrom(a), ctx.tensorFrom(b), c, { M: 1, N: 1, K: a.length })]);
  return (await ctx.read(c))[0];
}

// Dawn instances must outlive their devices (device-node.ts)
const keep: unknown[] = [];

describe('matmul_f16.wgsl on lavapipe', { timeout: 120_000 }, () => {
  it('lavapipe gives a device with shader-f16', async () => {
    const ctx = await sharedLavapipeContext();
    expect(ctx.adapter?.description).toMatch(/llvmpipe/);
    expect(hasShaderF16(ctx)).toBe(true);
  });

  it('every case of the kernel check within the f16 error bound (src/gpu/checks/matmul-f16.check.ts)', async () => {
    const ctx = await sharedLavapipeContext();
    const results = await matmulF16Check.run(ctx, 'full');
    expect(results.length).toBe(Object.keys(F16_CASES).length + 2); // + packed B, nt and nn
    for (const r of results) {
      console.log(`${r.name}: error/bound ${r.relErr.toFixed(3)}, ${r.detail}`);
      expect(r.relErr, `${r.name}: ${r.detail}`).toBeLessThanOrEqual(r.tol);
    }
  });

  it('rounds to f16 visibly: on a linear layer’s shape its error is far above the f32 kernel’s', async () => {
    const ctx = await sharedLavapipeContext();
    const spec = { M: 64, N: 96, K: 256, transB: true };
    const [a, b] = [randn(64 * 256, 1), randn(96 * 256, 2)];
    const got = await runBoth(ctx, spec, a, b, new Float32Array(64 * 96));
    const want = matmulRef(a, b, new Float32Array(64 * 96), spec);
    const maxErr = (x: Float32Array) => Math.max(...Array.from(x, (v, i) => Math.abs(v - want[i])));
    const [e16, e32] = [maxErr(got.f16), maxErr(got.f32)];
    console.log(`64x96x256_nt: max |err| f16 kernel ${e16.toExponential(2)}, f32 kernel ${e32.toExponential(2)}`);
    expect(e16).toBeGreaterThan(8 * e32);
  });

  it('computes in f16: a dot of (2048, 1)·(1, 1) is 2048 (exactly 2049), but dots of four are summed in f32', async () => {
    const ctx = await sharedLavapipeContext();
    expect(await dotF16(ctx, Float32Array.of(2048, 1, 0, 0), Float32Array.of(1, 1, 0, 0))).toBe(2048);
    // 2048 and sixteen 1s, each in a dot of its own: 2064 (an f16 sum over all of K would stop at 2048)
    const a = new Float32Array(68).fill(0);
    a[0] = 2048;
    for (let q = 1; q < 17; q++) a[4 * q] = 1;
    expect(await dotF16(ctx, a, new Float32Array(68).fill(1))).toBe(2064);
  });

  it('a four-term dot past f16’s range (65504) gives Inf, as fp16 does (exactly 180000)', async () => {
    const ctx = await sharedLavapipeContext();
    expect(await dotF16(ctx, Float32Array.of(300, 300, 0, 0), Float32Array.of(300, 300, 0, 0))).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('picks f16 arithmetic iff the format is fp16 and the device has shader-f16', async () => {
    const ctx = await sharedLavapipeContext();
    expect(arithmeticFor(ctx, 'fp16')).toBe('f16');
    expect(arithmeticFor(ctx, 'bf16')).toBe('f32');
    expect(arithmeticFor(ctx, null)).toBe('f32');
    // a lavapipe device requested without the feature (as SwiftShader's, or Dawn's on NVIDIA, come)
    const { create } = await import('webgpu');
    keep.push(create([]));
    const adapter = await (keep[keep.length - 1] as GPU).requestAdapter();
    const plain = new GpuContext(await adapter!.requestDevice(), summarizeAdapter(adapter!));
    expect(hasShaderF16(plain)).toBe(false);
    expect(arithmeticFor(plain, 'fp16')).toBe('f32');
    const t = ctx.tensor([4]);
    expect(() => matmulF16(plain, t, t, ctx.tensor([4]), { M: 2, N: 2, K: 1 })).toThrow(/no shader-f16/);
    // what the kernel check reports on such a device (SwiftShader in Chromium: e2e/kernels.spec.ts)
    const [refused] = await matmulF16Check.run(plain, 'one-case');
    expect(refused.relErr).toBe(0);
    expect(refused.detail).toMatch(/^matmul_f16: the device has no shader-f16/);
  });
});
