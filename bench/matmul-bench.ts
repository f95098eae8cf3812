// Times the matmul kernels at the GEMM shapes of bench/matmul-shapes.json, each way of running
// a shape on the same operands (a matmul.wgsl config, a matmul_vec4.wgsl config with some K
// splits, or whatever matmul() picks), after checking a sample of the product against f64.
import type { GpuContext } from '../src/gpu/context';
import type { Dispatch } from '../src/gpu/dispatch';
import {
  type MatmulConfig,
  matmul,
  matmulConfigName,
  matmulConfigProblem,
  type MatmulSpec,
  matmulVec4With,
  matmulWith,
  matmulPlanName,
  planMatmul,
  type Vec4Config,
  vec4ConfigName,
  vec4ConfigProblem,
} from '../src/gpu/kernels/matmul';
import type { GpuTensor } from '../src/gpu/tensor';
import { patternAt, patternTensor } from './fill';
import shapes from './matmul-shapes.json';
import type { Timer, TimeOptions } from './timing';

export interface MatmulCase {
  name: string;
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  beta: number;
}

export type MatmulMethod =
  | { kind: 'scalar'; cfg: MatmulConfig }
  | { kind: 'vec4'; cfg: Vec4Config; splits: number }
  | { kind: 'auto' };

export interface MatmulResult extends MatmulCase {
  method: string;
  /** the plan matmul() chose (auto) */
  plan?: string;
  ms?: number;
  tflops?: number;
  timing?: string;
  /** max |gpu - f64| / max |f64| over the sampled outputs */
  sampleRelErr?: number;
  error?: string;
}

export const MATMUL_CASES: readonly MatmulCase[] = shapes.cases;

export function methodName(m: MatmulMethod): string {
  if (m.kind === 'auto') return 'auto';
  if (m.kind === 'scalar') return matmulConfigName(m.cfg);
  return `${vec4ConfigName(m.cfg)}${m.splits > 1 ? `k${m.splits}` : ''}`;
}

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

function problemOf(ctx: GpuContext, m: MatmulMethod): string | null {
  if (m.kind === 'scalar') return matmulConfigProblem(ctx, m.cfg);
  if (m.kind === 'vec4') return vec4ConfigProblem(ctx, m.cfg);
  return null;
}

function dispatches(ctx: GpuContext, m: MatmulMethod, a: GpuTensor, b: GpuTensor, c: GpuTensor, spec: MatmulSpec) {
  if (m.kind === 'scalar') return [matmulWith(ctx, a, b, c, spec, m.cfg)];
  if (m.kind === 'vec4') return matmulVec4With(ctx, a, b, c, spec, m.cfg, m.splits);
  return matmul(ctx, a, b, c, spec);
}

/** Every method on one shape's operands (allocated once); a method that cannot run reports why. */
export async function benchMatmulShape(
  ctx: GpuContext,
  timer: Timer,
  k: MatmulCase,
  methods: readonly MatmulMethod[],
  opts: TimeOptions & { check?: boolean } = {},
): Promise<MatmulResult[]> {
  const maxBinding = ctx.limits.maxStorageBufferBindingSize;
  const sizes = { A: k.M * k.K, B: k.K * k.N, C: k.M * k.N };
  const tooBig = Object.entries(sizes).find(([, n]) => n * 4 > maxBinding);
  if (tooBig) {
    const error = `${tooBig[0]} is ${tooBig[1] * 4} B > maxStorageBufferBindingSize ${maxBinding}`;
    return methods.map((m) => ({ ...k, method: methodName(m), error }));
  }
  const a = patternTensor(ctx, sizes.A, 'A'),
    b = patternTensor(ctx, sizes.B, 'B');
  const check = opts.check ?? true;
  let c = k.beta !== 0 || check ? patternTensor(ctx, sizes.C, 'C') : ctx.tensor([sizes.C], 'C');
  const spec: MatmulSpec = { M: k.M, N: k.N, K: k.K, transA: k.transA, transB: k.transB, beta: k.beta };
  const out: MatmulResult[] = [];
  try {
    for (const m of methods) {
      const res: MatmulResult = { ...k, method: methodName(m) };
      out.push(res);
      const problem = problemOf(ctx, m);
      if (problem) {
        res.error = problem;
        continue;
      }
      try {
        if (m.kind === 'auto') {
          const plan = planMatmul(ctx, spec, a, b, c);
          res.plan = matmulPlanName(plan);
        }
        const list: Dispatch[] = dispatches(ctx, m, a, b, c, spec);
        if (check) {
          ctx.run(list);
          res.sampleRelErr = await sampleError(ctx, c, k);
        }
        const t = await timer.time(list, opts);
        Object.assign(res, { ms: t.ms, tflops: (2 * k.M * k.N * k.K) / (t.ms * 1e9), timing: t.method });
      } catch (e) {
        res.error = (e as Error).message;
      }
      if (check && k.beta !== 0) {
        c.buffer.destroy(); // timing accumulated into C: the next check needs the pattern again
        c = patternTensor(ctx, sizes.C, 'C');
      }
    }
  } finally {
    a.buffer.destroy();
    b.buffer.destroy();
    c.buffer.destroy();
  }
  return out;
}
