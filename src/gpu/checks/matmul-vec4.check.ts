// matmul_vec4.wgsl (aligned operands: vec4 loads, split-K, fused epilogues) against the f64
// reference: every transpose, edges that are not whole tiles, batches with strides, beta,
// split-K with a short last split, batched split-K, and each epilogue with and without split-K.
import type { GpuContext } from '../context';
import type { Dispatch } from '../dispatch';
import type { GpuTensor } from '../tensor';
import {
  defaultVec4Config,
  type MatmulEpilogue,
  type MatmulSpec,
  matmul,
  matmulVec4With,
  VEC4_CONFIGS,
  type Vec4Config,
  vec4ConfigName,
  vec4ConfigProblem,
} from '../kernels/matmul';
import { matmulEpilogueRef, matmulRef } from '../../reference/matmul';
import { randn } from '../../util/rng';
import { type CheckResult, compare, type KernelCheck, sweepCases } from './harness';
import { expectedC, placeOperands } from './matmul.check';

export interface Case {
  name: string;
  spec: MatmulSpec;
  splits?: number;
  nanC?: boolean;
}

const transposes = (['nn', 'nt', 'tn', 'tt'] as const).map((t) => ({ transA: t[0] === 't', transB: t[1] === 't', t }));

// M, N, K multiples of 4 but not of a tile, except in 'whole'
export const CASES: Case[] = [
  { name: '4x4x4', spec: { M: 4, N: 4, K: 4 } },
  ...transposes.map(({ transA, transB, t }) => ({
    name: `68x36x132_${t}`,
    spec: { M: 68, N: 36, K: 132, transA, transB },
  })),
  {
    name: 'batch3_strided_tn',
    spec: {
      M: 20,
      N: 36,
      K: 24,
      batch: 3,
      transA: true,
      strideA: 20 * 24 + 8,
      strideB: 24 * 36 + 300,
      strideC: 20 * 36 + 4,
    },
  },
  { name: 'beta1_alpha0.5_tn', spec: { M: 32, N: 72, K: 40, transA: true, alpha: 0.5, beta: 1 } },
  { name: 'beta0_over_nan_nt', spec: { M: 44, N: 20, K: 16, transB: true }, nanC: true },
  { name: 'whole_nn', spec: { M: 128, N: 128, K: 64 } },
  { name: 'splitk3_nn', spec: { M: 36, N: 40, K: 1000 }, splits: 3 },
  { name: 'splitk4_tn_beta1', spec: { M: 64, N: 48, K: 512, transA: true, beta: 1 }, splits: 4 },
  { name: 'splitk5_whole_tn', spec: { M: 64, N: 64, K: 320, transA: true, alpha: 2 }, splits: 5 },
  // batched split-K (layer z: split z % S of matrix z / S): edges, a split that is not whole BK steps, beta,
  // every transposition, strided batches
  { name: 'batch3_splitk4_tn', spec: { M: 68, N: 36, K: 256, batch: 3, transA: true }, splits: 4 },
  { name: 'batch2_splitk3_short_tn', spec: { M: 32, N: 20, K: 60, batch: 2, transA: true }, splits: 3 },
  {
    name: 'batch2_splitk2_beta1_strideC_tn',
    spec: { M: 32, N: 20, K: 96, batch: 2, transA: true, alpha: 2, beta: 1, strideC: 32 * 20 + 8 },
    splits: 2,
  },
  { name: 'batch3_splitk4_nn', spec: { M: 68, N: 36, K: 256, batch: 3 }, splits: 4 },
  { name: 'batch2_splitk3_short_nt', spec: { M: 40, N: 24, K: 60, batch: 2, transB: true }, splits: 3 },
  {
    name: 'batch3_splitk2_strided_tt_beta1',
    spec: {
      M: 20,
      N: 28,
      K: 72,
      batch: 3,
      transA: true,
      transB: true,
      beta: 1,
      strideA: 72 * 20 + 8,
      strideB: 28 * 72 + 12,
      strideC: 20 * 28 + 4,
    },
    splits: 2,
  },
];
// run again under every other config (the first alone in a 'one-case' sweep)
const PER_CONFIG = [
  'batch3_strided_tn',
  '68x36x132_nt',
  '68x36x132_tn',
  'whole_nn',
  'splitk3_nn',
  'batch3_splitk4_tn',
  'batch3_splitk4_nn',
];

/** Case c through `dispatch` on placed operands, against the reference (C's guards included). */
export async function productCase(
  ctx: GpuContext,
  c: Case,
  name: string,
  dispatch: (o: ReturnType<typeof placeOperands>) => Dispatch[],
  seed: number,
): Promise<CheckResult> {
  const o = placeOperands(ctx, c.spec, seed, c.nanC);
  ctx.run(dispatch(o));
  const got = await ctx.read(o.all);
  o.destroy();
  return compare(name, got, expectedC(o, c.spec), 1e-5);
}

export function runCase(ctx: GpuContext, c: Case, cfg: Vec4Config, seed: number): Promise<CheckResult> {
  const dispatch = (o: ReturnType<typeof placeOperands>) =>
    matmulVec4With(ctx, o.A, o.B, o.C, c.spec, cfg, c.splits ?? 1);
  return productCase(ctx, c, `matmul_vec4 ${c.name} [${vec4ConfigName(cfg)}]`, dispatch, seed);
}

/** A kernel under test: its name in results, and its dispatches for one product with an epilogue. */
export interface ProductKernel {
  name: string;
  dispatch(ctx: GpuContext, A: GpuTensor, B: GpuTensor, C: GpuTensor, spec: MatmulSpec, e: MatmulEpilogue): Dispatch[];
  /** K splits (the product's K is made long enough to split) */
  splits: number;
}

const vec4Kernel = (cfg: Vec4Config, splits: number): ProductKernel => ({
  name: `matmul_vec4 epilogue splits ${splits} [${vec4ConfigName(cfg)}]`,
  dispatch: (ctx, A, B, C, spec, e) => matmulVec4With(ctx, A, B, C, spec, cfg, splits, e),
  splits,
});

/** A linear layer's products through each fused epilogue: y = x·Wᵀ + b (→ gelu), dh = (dy·W) · gelu'(h). */
export async function epilogueCase(
  ctx: GpuContext,
  kind: MatmulEpilogue['kind'],
  kernel: ProductKernel,
  seed: number,
): Promise<CheckResult[]> {
  const splits = kernel.splits;
  const [M, N, K] = [36, 44, splits > 1 ? 600 : 52];
  const spec: MatmulSpec = { M, N, K, transB: kind !== 'geluBackward' };
  const a = randn(M * K, seed),
    b = randn(K * N, seed + 1),
    bias = randn(N, seed + 2),
    h = randn(M * N, seed + 3, 2);
  const A = ctx.tensorFrom(a),
    B = ctx.tensorFrom(b),
    C = ctx.tensor([M * N], 'C'),
    biasT = ctx.tensorFrom(bias),
    aux = ctx.tensorFrom(h);
  const e: MatmulEpilogue =
    kind === 'bias'
      ? { kind, bias: biasT }
      : kind === 'biasGelu'
        ? { kind, bias: biasT, gelu: aux }
        : kind === 'geluBackward'
          ? { kind, preGelu: aux }
          : { kind: 'none' };
  ctx.run(kernel.dispatch(ctx, A, B, C, spec, e));
  const product = matmulRef(a, b, new Float64Array(M * N), spec);
  const want = matmulEpilogueRef(product, N, {
    bias: kind === 'bias' || kind === 'biasGelu' ? bias : undefined,
    gelu: kind === 'biasGelu',
    preGelu: kind === 'geluBackward' ? h : undefined,
  });
  const name = `${kernel.name} ${kind}`;
  const out = [compare(name, await ctx.read(C), want.c, 1e-5)];
  if (want.gelu) out.push(compare(`${name} (gelu)`, await ctx.read(aux), want.gelu, 1e-5));
  for (const t of [A, B, C, biasT, aux]) t.buffer.destroy();
  return out;
}

export const matmulVec4Check: KernelCheck = {
  name: 'matmul_vec4',
  async run(ctx, sweep) {
    const base = defaultVec4Config(ctx);
    const out: CheckResult[] = [];
    let seed = 500;
    for (const c of CASES) out.push(await runCase(ctx, c, base, (seed += 10)));
    for (const kind of ['bias', 'biasGelu', 'geluBackward'] as const) {
      for (const splits of [1, 3]) out.push(...(await epilogueCase(ctx, kind, vec4Kernel(base, splits), (seed += 10))));
    }
    // the public entry point takes this path for aligned operands, with its own split choice
    const o = placeOperands(ctx, CASES[3].spec, (seed += 10));
    ctx.run(matmul(ctx, o.A, o.B, o.C, CASES[3].spec));
    out.push(compare(`matmul_vec4 ${CASES[3].name} [auto]`, await ctx.read(o.all), expectedC(o, CASES[3].spec), 1e-5));
    o.destroy();
    const others = VEC4_CONFIGS.filter(
      (cfg) => vec4ConfigName(cfg) !== vec4ConfigName(base) && vec4ConfigProblem(ctx, cfg) === null,
    );
    for (const cfg of others) {
      for (const name of sweepCases(PER_CONFIG, sweep))
        out.push(await runCase(ctx, CASES.find((x) => x.name === name)!, cfg, (seed += 10)));
    }
    return out;
  },
};
