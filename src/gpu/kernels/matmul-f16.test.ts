// matmul_f16.wgsl on Mesa's lavapipe (Dawn in Node; the one device here with shader-f16) against
// the f64 CPU reference: every output within f16MatmulErrorBound of the exact product, for every
// transposition, batches with strides, beta and bounds; f16 arithmetic visibly happens (2048 + 1 is
// 2048 in f16); and the path selection: f16 iff the format is fp16 and the device has shader-f16.
// This file runs in a Vitest process of its own (VK_ICD_FILENAMES is per process); without
// lavapipe it fails, naming the install.
import { describe, expect, it } from 'vitest';
import { matmulRef } from '../../reference/matmul';
import { randn } from '../../util/rng';
import { GpuContext, summarizeAdapter } from '../context';
import { sharedLavapipeContext } from '../test-context';
import { matmul, type MatmulSpec, resolveMatmulSpec } from './matmul';
import { arithmeticFor, F16_UNIT, f16MatmulErrorBound, hasShaderF16, matmulF16 } from './matmul-f16';

const CASES: Record<string, MatmulSpec> = {
  '1x1x1': { M: 1, N: 1, K: 1 },
  '7x13x5': { M: 7, N: 13, K: 5 },
  '65x33x129_nn': { M: 65, N: 33, K: 129 },
  '65x33x129_nt': { M: 65, N: 33, K: 129, transB: true },
  '65x33x129_tn': { M: 65, N: 33, K: 129, transA: true },
  '65x33x129_tt': { M: 65, N: 33, K: 129, transA: true, transB: true },
  batch3_strided_tn: {
    M: 19,
    N: 37,
    K: 23,
    batch: 3,
    transA: true,
    strideA: 19 * 23 + 7,
    strideB: 23 * 37 + 300,
    strideC: 19 * 37 + 5,
  },
  beta1_alpha0_5_tn: { M: 33, N: 70, K: 40, transA: true, alpha: 0.5, beta: 1 },
  linear_128x96x256_nt: { M: 128, N: 96, K: 256, transB: true },
};

const lengths = (s: Required<MatmulSpec>) => ({
  a: (s.batch - 1) * s.strideA + s.M * s.K,
  b: (s.batch - 1) * s.strideB + s.K * s.N,
  c: (s.batch - 1) * s.strideC + s.M * s.N,
});

async function runBoth(ctx: GpuContext, spec: MatmulSpec, a: Float32Array, b: Float32Array, c: Float32Array) {
  const [ta, tb] = [ctx.tensorFrom(a), ctx.tensorFrom(b)];
  const [c16, c32] = [ctx.tensorFrom(c), ctx.tensorFrom(c)];
  ctx.run([matmulF16(ctx, ta, tb, c16, spec), ...matmul(ctx, ta, tb, c32, spec)]);
  return { f16: await ctx.read(c16), f32: await ctx.read(c32) };
}

// Dawn instances must outlive their devices (device-node.ts)
const keep: unknown[] = [];

describe('matmul_f16.wgsl on lavapipe', { timeout: 120_000 }, () => {
  it('lavapipe gives a device with shader-f16', async () => {
    const ctx = await sharedLavapipeContext();
    expect(ctx.adapter?.description).toMatch(/llvmpipe/);
    expect(hasShaderF16(ctx)).toBe(true);
  });

  for (const [name, spec] of Object.entries(CASES)) {
    it(`${name}: every output within the f16 bound of the exact product`, async () => {
      const ctx = await sharedLavapipeContext();
      const s = resolveMatmulSpec(spec);
      const n = lengths(s);
      const seed = name.length * 7919;
      const [a, b, c] = [randn(n.a, seed), randn(n.b, seed + 1), randn(n.c, seed + 2)];
      const got = await runBoth(ctx, spec, a, b, c);
      const want = matmulRef(a, b, c, spec);
      // Σ_k |a·b| per output (alpha 1, beta 0), and what beta·C and alpha add in f32
      const sumAbs = matmulRef(a.map(Math.abs), b.map(Math.abs), new Float32Array(n.c), { ...spec, alpha: 1, beta: 0 });
      let worst = 0; // largest error in units of u·Σ|a·b|
      for (let i = 0; i < n.c; i++) {
        const err16 = Math.abs(got.f16[i] - want[i]);
        const f32Slack = 2 ** -22 * (Math.abs(want[i]) + Math.abs(s.beta * c[i]));
        expect(err16, `${name} [${i}]`).toBeLessThanOrEqual(
          Math.abs(s.alpha) * f16MatmulErrorBound(sumAbs[i], s.K) + f32Slack,
        );
        if (sumAbs[i] > 0) worst = Math.max(worst, err16 / (F16_UNIT * Math.abs(s.alpha) * sumAbs[i]));
      }
      // outside the batch's matrices C is untouched
      const maxErr = (x: Float32Array) => Math.max(...Array.from(x, (v, i) => Math.abs(v - want[i])));
      console.log(
        `matmul_f16 ${name}: max |err| ${maxErr(got.f16).toExponential(2)} (f32 kernel ${maxErr(got.f32).toExponential(2)}), worst ${worst.toFixed(2)} u·Σ|ab|`,
      );
      // f16 rounding shows where K is large enough for it to: the f32 kernel is far closer
      if (s.K >= 23) expect(maxErr(got.f16)).toBeGreaterThan(8 * maxErr(got.f32));
    });
  }

  it('computes in f16: a dot of (2048, 1)·(1, 1) is 2048, where f32 gives 2049', async () => {
    const ctx = await sharedLavapipeContext();
    const spec = { M: 1, N: 1, K: 4 };
    const got = await runBoth(
      ctx,
      spec,
      Float32Array.of(2048, 1, 0, 0),
      Float32Array.of(1, 1, 0, 0),
      new Float32Array(1),
    );
    expect(got.f32[0]).toBe(2049);
    expect(got.f16[0]).toBe(2048);
    // f32 accumulation across dots of four: 16 dots of (1·1 + 0…) sum to 16 exactly, and 2048 + 16·1 over
    // separate dots is 2064 (an f16 sum over all of K would stop at 2048)
    const a = new Float32Array(68).fill(0);
    a[0] = 2048;
    for (let q = 1; q < 17; q++) a[4 * q] = 1;
    const long = await runBoth(ctx, { M: 1, N: 1, K: 68 }, a, new Float32Array(68).fill(1), new Float32Array(1));
    expect(long.f16[0]).toBe(2064);
  });

  it('overflow of a four-term f16 dot gives Inf, as fp16 does', async () => {
    const ctx = await sharedLavapipeContext();
    const spec = { M: 1, N: 1, K: 4 };
    const got = await runBoth(
      ctx,
      spec,
      Float32Array.of(300, 300, 0, 0),
      Float32Array.of(300, 300, 0, 0),
      new Float32Array(1),
    );
    expect(got.f32[0]).toBe(180_000);
    expect(got.f16[0]).toBe(Number.POSITIVE_INFINITY);
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
  });
});
