import type { GpuContext } from '../context';
import {
  defaultMatmulConfig,
  matmul,
  MATMUL_CONFIGS,
  type MatmulConfig,
  matmulConfigName,
  matmulConfigProblem,
  type MatmulSpec,
  matmulWith,
} from '../kernels/matmul';
import type { GpuTensor } from '../tensor';
import { matmulRef } from '../../reference/matmul';
import { randn } from '../../util/rng';
import { type CheckResult, compare, type KernelCheck, sweepCases } from './harness';

interface Case {
  name: string;
  spec: MatmulSpec;
  nanC?: boolean;
}

const transposes = (['nn', 'nt', 'tn', 'tt'] as const).map((t) => ({ transA: t[0] === 't', transB: t[1] === 't', t }));

// None of M, N, K is a multiple of a tile, except in 'aligned'.
const CASES: Case[] = [
  { name: '1x1x1', spec: { M: 1, N: 1, K: 1 } },
  { name: '7x13x5', spec: { M: 7, N: 13, K: 5 } },
  ...transposes.map(({ transA, transB, t }) => ({
    name: `65x33x129_${t}`,
    spec: { M: 65, N: 33, K: 129, transA, transB },
  })),
  {
    name: 'batch3_strided_tn',
    spec: {
      M: 19,
      N: 37,
      K: 23,
      batch: 3,
      transA: true,
      strideA: 19 * 23 + 7,
      strideB: 23 * 37 + 300,
      strideC: 19 * 37 + 5,
    },
  },
  {
    name: 'batch3_sharedB_nt',
    spec: { M: 21, N: 10, K: 9, batch: 3, transB: true, strideB: 0, strideC: 21 * 10 + 64 },
  },
  { name: 'beta1_alpha0.5_tn', spec: { M: 33, N: 70, K: 40, transA: true, alpha: 0.5, beta: 1 } },
  { name: 'beta0_over_nan_nt', spec: { M: 45, N: 19, K: 17, transB: true }, nanC: true },
  { name: 'multi_tile_nt', spec: { M: 200, N: 260, K: 100, transB: true } },
  { name: 'aligned_nn', spec: { M: 128, N: 128, K: 64 } },
  { name: 'aligned_tn_beta1', spec: { M: 128, N: 256, K: 32, transA: true, beta: 1 } },
];
// run again under every other config that fits the device (the first alone in a 'one-case' sweep)
const PER_CONFIG = [
  'batch3_strided_tn',
  '65x33x129_nt',
  '65x33x129_tn',
  'multi_tile_nt',
  'aligned_nn',
  'aligned_tn_beta1',
];

const GUARD = 64; // elements of untouched memory before and after C

function view(buffer: GPUBuffer, offset: number, length: number, name: string): GpuTensor {
  return { buffer, offset, length, shape: [length], name };
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

export interface PlacedOperands {
  A: GpuTensor;
  B: GpuTensor;
  C: GpuTensor;
  /** C with its guards */
  all: GpuTensor;
  a: Float32Array;
  b: Float32Array;
  cInit: Float32Array;
  /** where C starts inside `all` */
  offC: number;
  lenC: number;
  destroy(): void;
}

/** A and B as views inside one buffer at nonzero offsets; C inside another, between guards. */
export function placeOperands(ctx: GpuContext, spec: MatmulSpec, seed: number, nanC = false): PlacedOperands {
  const { M, N, K } = spec;
  const batch = spec.batch ?? 1;
  const lenA = (batch - 1) * (spec.strideA ?? M * K) + M * K;
  const lenB = (batch - 1) * (spec.strideB ?? K * N) + K * N;
  const lenC = (batch - 1) * (spec.strideC ?? M * N) + M * N;
  const align = ctx.alignment / 4;
  const offA = align,
    offB = roundUp(offA + lenA, align) + align;
  const ab = ctx.createBuffer((offB + lenB) * 4, 'matmul_check.ab');
  const a = randn(lenA, seed),
    b = randn(lenB, seed + 1);
  ctx.write(view(ab, 0, offB + lenB, 'ab'), new Float32Array(offB + lenB).fill(7));
  const A = view(ab, offA * 4, lenA, 'A'),
    B = view(ab, offB * 4, lenB, 'B');
  ctx.write(A, a);
  ctx.write(B, b);

  const offC = roundUp(GUARD, align);
  const whole = offC + lenC + GUARD;
  const cInit = randn(whole, seed + 2);
  if (nanC) cInit.fill(NaN, offC, offC + lenC);
  const cBuf = ctx.createBuffer(whole * 4, 'matmul_check.c');
  const all = view(cBuf, 0, whole, 'C+guards');
  ctx.write(all, cInit);
  const C = view(cBuf, offC * 4, lenC, 'C');
  const destroy = () => {
    ab.destroy();
    cBuf.destroy();
  };
  return { A, B, C, all, a, b, cInit, offC, lenC, destroy };
}

/** What the whole C buffer (guards included) must hold after the product. */
export function expectedC(o: PlacedOperands, spec: MatmulSpec): Float64Array {
  const want = new Float64Array(o.all.length);
  want.set(o.cInit);
  want.set(matmulRef(o.a, o.b, o.cInit.subarray(o.offC, o.offC + o.lenC), spec), o.offC);
  return want;
}

async function runCase(ctx: GpuContext, c: Case, cfg: MatmulConfig | 'auto', seed: number): Promise<CheckResult> {
  const o = placeOperands(ctx, c.spec, seed, c.nanC);
  ctx.run(cfg === 'auto' ? matmul(ctx, o.A, o.B, o.C, c.spec) : [matmulWith(ctx, o.A, o.B, o.C, c.spec, cfg)]);
  const got = await ctx.read(o.all);
  o.destroy();
  return compare(
    `matmul ${c.name} [${cfg === 'auto' ? 'auto' : matmulConfigName(cfg)}]`,
    got,
    expectedC(o, c.spec),
    1e-5,
  );
}

export const matmulCheck: KernelCheck = {
  name: 'matmul',
  async run(ctx, sweep) {
    const base = defaultMatmulConfig(ctx);
    const out: CheckResult[] = [];
    let seed = 100;
    for (const c of CASES) out.push(await runCase(ctx, c, base, (seed += 10)));
    // the public entry point, which picks a config per shape
    for (const c of CASES.filter((x) => x.name === 'multi_tile_nt' || x.name === 'batch3_strided_tn'))
      out.push(await runCase(ctx, c, 'auto', (seed += 10)));
    const others = MATMUL_CONFIGS.filter(
      (cfg) => matmulConfigName(cfg) !== matmulConfigName(base) && matmulConfigProblem(ctx, cfg) === null,
    );
    for (const cfg of others) {
      for (const name of sweepCases(PER_CONFIG, sweep))
        out.push(await runCase(ctx, CASES.find((x) => x.name === name)!, cfg, (seed += 10)));
    }
    return out;
  },
};
