// matmul_f16.wgsl (f16 arithmetic, devices with shader-f16) against the f64 reference: every output
// within f16MatmulErrorBound of the exact product (relErr is the worst error / bound, tol 1), for
// every transpose, edges that are not whole tiles, batches with strides, alpha and beta; memory
// around C untouched; B read from packed fp16 pairs equal to B read as f32. On a device without shader-f16 the one result is that the kernel refuses, and
// that an fp16 run there computes in f32.
import type { GpuContext } from '../context';
import { arithmeticFor, F16_UNIT, f16MatmulErrorBound, hasShaderF16, matmulF16 } from '../kernels/matmul-f16';
import { type MatmulSpec, resolveMatmulSpec } from '../kernels/matmul';
import { packHalfRef, unpackHalfRef } from '../../reference/half';
import { matmulRef } from '../../reference/matmul';
import { randn } from '../../util/rng';
import type { CheckResult, KernelCheck } from './harness';
import { expectedC, placeOperands } from './matmul.check';

const transposes = (['nn', 'nt', 'tn', 'tt'] as const).map((t) => ({ transA: t[0] === 't', transB: t[1] === 't', t }));

export const F16_CASES: Record<string, MatmulSpec> = {
  '1x1x1': { M: 1, N: 1, K: 1 },
  '7x13x5': { M: 7, N: 13, K: 5 },
  ...Object.fromEntries(
    transposes.map(({ transA, transB, t }) => [`65x33x129_${t}`, { M: 65, N: 33, K: 129, transA, transB }]),
  ),
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
  'beta1_alpha0.5_tn': { M: 33, N: 70, K: 40, transA: true, alpha: 0.5, beta: 1 },
  linear_128x96x256_nt: { M: 128, N: 96, K: 256, transB: true },
};

async function runCase(ctx: GpuContext, name: string, spec: MatmulSpec, seed: number): Promise<CheckResult> {
  const s = resolveMatmulSpec(spec);
  const o = placeOperands(ctx, spec, seed);
  ctx.run([matmulF16(ctx, o.A, o.B, o.C, spec)]);
  const got = await ctx.read(o.all);
  o.destroy();
  const want = expectedC(o, spec);
  // Σ_k |a·b| of each output
  const sumAbs = matmulRef(o.a.map(Math.abs), o.b.map(Math.abs), new Float32Array(o.lenC), {
    ...spec,
    alpha: 1,
    beta: 0,
  });
  let worst = 0; // error / bound
  let worstU = 0; // error in units of u·|alpha|·Σ|a·b|
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    const j = i - o.offC;
    const inC = j >= 0 && j < o.lenC;
    // outside C (guards, gaps between batch matrices: Σ is 0 there) nothing may change
    const bound = inC
      ? Math.abs(s.alpha) * f16MatmulErrorBound(sumAbs[j], s.K) +
        2 ** -22 * (Math.abs(want[i]) + Math.abs(s.beta * o.cInit[i]))
      : 0;
    const ratio = err === 0 ? 0 : bound > 0 ? err / bound : Number.POSITIVE_INFINITY;
    if (!(ratio <= worst)) [worst, at] = [Number.isNaN(ratio) ? Number.POSITIVE_INFINITY : ratio, i];
    if (inC && sumAbs[j] > 0) worstU = Math.max(worstU, err / (F16_UNIT * Math.abs(s.alpha) * sumAbs[j]));
  }
  const detail =
    `worst error ${worstU.toFixed(2)} u·Σ|ab|` +
    (at >= 0 ? `; worst vs bound at ${at}: got ${got[at]} want ${want[at]}` : '');
  return { name: `matmul_f16 ${name}`, relErr: worst, tol: 1, detail };
}

/** B read packed (fp16 pairs, starting at an odd value) equals, to the bit, B read as f32 holding the
 *  same fp16 values: a linear layer's forward (x·Wᵀ) and input gradient (dy·W) on fp16 weights. */
async function packedCase(ctx: GpuContext, transB: boolean, seed: number): Promise<CheckResult> {
  const [M, N, K, at] = [37, 45, 70, 13];
  const spec: MatmulSpec = { M, N, K, transB };
  const w = randn(K * N, seed + 1);
  const words = packHalfRef(new Uint32Array(new Float32Array([...new Float32Array(at), ...w]).buffer), 'fp16');
  const halves = new Float32Array(unpackHalfRef(words, at + K * N, 'fp16').buffer).subarray(at);
  const A = ctx.tensorFrom(randn(M * K, seed));
  const [packed, B] = [ctx.tensorFrom(words), ctx.tensorFrom(halves)];
  const [cPacked, cF32] = [ctx.tensor([M * N]), ctx.tensor([M * N])];
  const view = { packed, at, length: K * N, shape: [K, N], name: 'W.half' };
  ctx.run([matmulF16(ctx, A, view, cPacked, spec), matmulF16(ctx, A, B, cF32, spec)]);
  const [got, want] = [await ctx.read(cPacked), await ctx.read(cF32)];
  for (const t of [A, packed, B, cPacked, cF32]) t.buffer.destroy();
  const differ = got.findIndex((v, i) => !Object.is(v, want[i]));
  return {
    name: `matmul_f16 packed fp16 B ${transB ? 'nt' : 'nn'} (bit-equal to f32 B)`,
    relErr: differ < 0 ? 0 : Number.POSITIVE_INFINITY,
    tol: 0,
    detail: differ < 0 ? undefined : `at ${differ}: packed ${got[differ]}, f32 ${want[differ]}`,
  };
}

export const matmulF16Check: KernelCheck = {
  name: 'matmul_f16',
  async run(ctx) {
    if (!hasShaderF16(ctx)) {
      let refused = '';
      const t = ctx.tensor([4], 'f16_check');
      const c = ctx.tensor([4], 'f16_check_c');
      try {
        matmulF16(ctx, t, t, c, { M: 2, N: 2, K: 1 });
      } catch (e) {
        refused = (e as Error).message;
      }
      t.buffer.destroy();
      c.buffer.destroy();
      const ok = /no shader-f16/.test(refused) && arithmeticFor(ctx, 'fp16') === 'f32';
      return [
        {
          name: 'matmul_f16 refused without shader-f16 (fp16 runs compute in f32)',
          relErr: ok ? 0 : Number.POSITIVE_INFINITY,
          tol: 0,
          detail: refused || 'matmulF16 did not throw',
        },
      ];
    }
    const out: CheckResult[] = [];
    let seed = 4100;
    for (const [name, spec] of Object.entries(F16_CASES)) out.push(await runCase(ctx, name, spec, seed++));
    for (const transB of [true, false]) out.push(await packedCase(ctx, transB, seed++));
    return out;
  },
};
