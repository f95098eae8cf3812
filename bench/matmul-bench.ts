// Times the matmul kernel at the GEMM shapes of bench/matmul-shapes.json, after checking a
// sample of each product's outputs against an f64 dot product on the CPU.
import type { GpuContext } from '../src/gpu/context';
import {
  type MatmulConfig,
  matmulConfigName,
  matmulConfigProblem,
  type MatmulSpec,
  matmulWith,
} from '../src/gpu/kernels/matmul';
import type { GpuTensor } from '../src/gpu/tensor';
import { patternAt, patternTensor } from './fill';
import shapes from './matmul-shapes.json';
import type { Timer } from './timing';

export interface MatmulCase {
  name: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  beta: number;
}

export interface MatmulResult extends MatmulCase {
  config: string;
  ms?: number;
  tflops?: number;
  method?: string;
  /** max |gpu - f64| / max |f64| over the sampled outputs */
  sampleRelErr?: number;
  error?: string;
}

export const MATMUL_CASES: readonly MatmulCase[] = shapes.cases;

export const configName = matmulConfigName;

function slice(t: GpuTensor, start: number, length: number): GpuTensor {
  return { ...t, offset: t.offset + start * 4, length, shape: [length] };
}

/** Samples rows {0, M/2, M-1} × 32 columns of C against the CPU; C held the pattern before. */
async function sampleError(ctx: GpuContext, c: GpuTensor, k: MatmulCase): Promise<number> {
  const { M, N, K } = k;
  const opA = (m: number, i: number) => patternAt(k.transA ? i * M + m : m * K + i);
  const opB = (i: number, n: number) => patternAt(k.transB ? n * K + i : i * N + n);
  let maxDiff = 0,
    maxRef = 0;
  for (const m of [...new Set([0, Math.floor(M / 2), M - 1])]) {
    const row = await ctx.read(slice(c, m * N, N));
    for (let j = 0; j < 32; j++) {
      const n = Math.min(N - 1, Math.floor((j * N) / 32) + (j % 5));
      let dot = 0;
      for (let i = 0; i < K; i++) dot += opA(m, i) * opB(i, n);
      const want = dot + k.beta * patternAt(m * N + n);
      const d = Math.abs(row[n] - want);
      maxDiff = Number.isNaN(d) ? Infinity : Math.max(maxDiff, d);
      maxRef = Math.max(maxRef, Math.abs(want));
    }
  }
  return maxDiff / Math.max(maxRef, 1e-30);
}

export async function benchMatmulCase(
  ctx: GpuContext,
  timer: Timer,
  k: MatmulCase,
  cfg: MatmulConfig,
  check: boolean,
): Promise<MatmulResult> {
  const res: MatmulResult = { ...k, config: configName(cfg) };
  const problem = matmulConfigProblem(ctx, cfg);
  if (problem) return { ...res, error: problem };
  const maxBinding = ctx.limits.maxStorageBufferBindingSize;
  const sizes = { A: k.M * k.K, B: k.K * k.N, C: k.M * k.N };
  const tooBig = Object.entries(sizes).find(([, n]) => n * 4 > maxBinding);
  if (tooBig)
    return { ...res, error: `${tooBig[0]} is ${tooBig[1] * 4} B > maxStorageBufferBindingSize ${maxBinding}` };
  const a = patternTensor(ctx, sizes.A, 'A'),
    b = patternTensor(ctx, sizes.B, 'B');
  const c = k.beta !== 0 || check ? patternTensor(ctx, sizes.C, 'C') : ctx.tensor([sizes.C], 'C');
  try {
    const spec: MatmulSpec = { M: k.M, N: k.N, K: k.K, transA: k.transA, transB: k.transB, beta: k.beta };
    const d = matmulWith(ctx, a, b, c, spec, cfg);
    if (check) {
      ctx.run([d]);
      res.sampleRelErr = await sampleError(ctx, c, k);
    }
    const t = await timer.time([d]);
    return { ...res, ms: t.ms, tflops: (2 * k.M * k.N * k.K) / (t.ms * 1e9), method: t.method };
  } catch (e) {
    return { ...res, error: (e as Error).message };
  } finally {
    a.buffer.destroy();
    b.buffer.destroy();
    c.buffer.destroy();
  }
}
