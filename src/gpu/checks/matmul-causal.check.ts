// Causal tile skipping of the matmul kernels (MatmulCausal) against the f64 reference and
// against the same kernel without it (bit for bit: the terms left out are exact zeros), on
// shapes that are not whole tiles, batched, with split-K and batched split-K. Where the kernel
// must not read (op(A) beyond a tile's K range) A holds NaN, so work that is not skipped shows;
// a lowerOutput tile wholly above the diagonal must keep what C held.
import type { GpuContext } from '../context';
import {
  defaultMatmulConfig,
  defaultVec4Config,
  type MatmulCausal,
  type MatmulConfig,
  type MatmulSpec,
  matmulConfigName,
  matmulVec4With,
  matmulWith,
  SPLIT_TILES,
  type Vec4Config,
  vec4ConfigName,
  vec4ConfigProblem,
} from '../kernels/matmul';
import { matmulRef } from '../../reference/matmul';
import type { Dispatch } from '../dispatch';
import { matmulDirect } from '../kernels/matmul-direct';
import { type CheckResult, compare, type KernelCheck } from './harness';
import { placeOperands } from './matmul.check';

// matmul_direct.wgsl skips per invocation: its 4×4 outputs are the causal tile
type Kernel =
  | { kind: 'scalar'; cfg: MatmulConfig }
  | { kind: 'vec4'; cfg: Vec4Config; splits: number }
  | { kind: 'direct'; cfg: { BM: 4; BN: 4 } };

interface Case {
  name: string;
  spec: MatmulSpec & { causal: MatmulCausal };
  kernel: Kernel;
}

/** op(A)[i, k] of matrix z as a flat index into A */
function aIndex(s: MatmulSpec, z: number, i: number, k: number): number {
  const base = z * (s.strideA ?? s.M * s.K);
  return base + (s.transA ? k * s.M + i : i * s.K + k);
}

/** A with the causal zeros (the triangle op(A) must hold) and, in `poisoned`, NaN where the kernel
 *  must not read: for lowerA k at or past the end of row i's tile, for upperA k before its start. */
function causalA(a: Float32Array, s: Case['spec'], BM: number): { clean: Float32Array; poisoned: Float32Array } {
  const clean = Float32Array.from(a),
    poisoned = Float32Array.from(a);
  if (s.causal !== 'lowerA' && s.causal !== 'upperA') return { clean, poisoned };
  for (let z = 0; z < (s.batch ?? 1); z++) {
    for (let i = 0; i < s.M; i++) {
      const tile0 = Math.floor(i / BM) * BM;
      for (let k = 0; k < s.K; k++) {
        const zero = s.causal === 'lowerA' ? k > i : k < i;
        const unread = s.causal === 'lowerA' ? k >= tile0 + BM : k < tile0;
        const at = aIndex(s, z, i, k);
        if (zero) clean[at] = 0;
        if (zero) poisoned[at] = unread ? Number.NaN : 0;
      }
    }
  }
  return { clean, poisoned };
}

function dispatches(ctx: GpuContext, c: Case, spec: MatmulSpec, o: ReturnType<typeof placeOperands>): Dispatch[] {
  const k = c.kernel;
  if (k.kind === 'direct') return [matmulDirect(ctx, o.A, o.B, o.C, spec)];
  return k.kind === 'scalar'
    ? [matmulWith(ctx, o.A, o.B, o.C, spec, k.cfg)]
    : matmulVec4With(ctx, o.A, o.B, o.C, spec, k.cfg, k.splits);
}

const kernelName = (k: Kernel) =>
  k.kind === 'direct'
    ? 'direct'
    : k.kind === 'scalar'
      ? matmulConfigName(k.cfg)
      : `${vec4ConfigName(k.cfg)}${k.splits > 1 ? ` k${k.splits}` : ''}`;

async function runCase(ctx: GpuContext, c: Case, seed: number): Promise<CheckResult[]> {
  const s = c.spec;
  const name = `matmul causal ${c.name} [${kernelName(c.kernel)}]`;
  const o = placeOperands(ctx, s, seed);
  const { clean, poisoned } = causalA(o.a, s, c.kernel.cfg.BM);
  // without the option, on the clean A: the numbers the causal run must reproduce bit for bit
  ctx.write(o.A, clean);
  ctx.run(dispatches(ctx, c, { ...s, causal: 'none' }, o));
  const full = await ctx.read(o.all);
  ctx.write(o.all, o.cInit);
  ctx.write(o.A, poisoned);
  ctx.run(dispatches(ctx, c, s, o));
  const got = await ctx.read(o.all);
  o.destroy();

  const want = Float64Array.from(o.cInit);
  want.set(matmulRef(clean, o.b, o.cInit.subarray(o.offC, o.offC + o.lenC), s), o.offC);
  const exact = Float64Array.from(full);
  let skipped = 0;
  if (s.causal === 'lowerOutput') {
    // needed: j ≤ i; a tile wholly above the diagonal is not computed (C keeps cInit without split-K)
    const { BM, BN } = c.kernel.cfg;
    const split = c.kernel.kind === 'vec4' && c.kernel.splits > 1;
    for (let z = 0; z < (s.batch ?? 1); z++) {
      for (let i = 0; i < s.M; i++) {
        for (let j = i + 1; j < s.N; j++) {
          const at = o.offC + z * (s.strideC ?? s.M * s.N) + i * s.N + j;
          const whollyAbove = Math.floor(j / BN) * BN >= Math.floor(i / BM) * BM + BM;
          if (whollyAbove) skipped++;
          const keep = whollyAbove && !split ? o.cInit[at] : got[at]; // with split-K: unspecified
          want[at] = keep;
          exact[at] = keep;
        }
      }
    }
  }
  const out = [compare(`${name} vs reference`, got, want, 1e-5), compare(`${name} bit for bit`, got, exact, 0)];
  if (s.causal === 'lowerOutput')
    out.push({
      name: `${name} skips tiles`,
      relErr: skipped > 0 ? 0 : 1,
      tol: 0,
      detail: `${skipped} outputs in tiles wholly above the diagonal`,
    });
  return out;
}

/** Attention's shapes, T not a multiple of the tiles (nor of 4 for the scalar kernel). */
function cases(scalar: MatmulConfig, vec4: Vec4Config, split: Vec4Config): Case[] {
  const sc: Kernel = { kind: 'scalar', cfg: scalar };
  const v4: Kernel = { kind: 'vec4', cfg: vec4, splits: 1 };
  const splitK = (splits: number): Kernel => ({ kind: 'vec4', cfg: split, splits });
  const direct: Kernel = { kind: 'direct', cfg: { BM: 4, BN: 4 } };
  const [T, t4, hd] = [150, 136, 12];
  return [
    { name: 'scores_nt', spec: { batch: 2, M: T, N: T, K: hd, transB: true, causal: 'lowerOutput' }, kernel: sc },
    { name: 'P·V_nn', spec: { batch: 2, M: T, N: hd, K: T, causal: 'lowerA' }, kernel: sc },
    { name: 'Pᵀ·dY_tn', spec: { batch: 2, M: T, N: hd, K: T, transA: true, causal: 'upperA' }, kernel: sc },
    {
      name: 'beta1_lowerA_tt',
      spec: { M: T, N: 33, K: T, transA: true, transB: true, beta: 1, causal: 'lowerA' },
      kernel: sc,
    },
    { name: 'scores_nt', spec: { batch: 2, M: t4, N: t4, K: 16, transB: true, causal: 'lowerOutput' }, kernel: v4 },
    { name: 'P·V_nn', spec: { batch: 2, M: t4, N: 16, K: t4, causal: 'lowerA' }, kernel: v4 },
    { name: 'Pᵀ·dY_tn', spec: { batch: 2, M: t4, N: 16, K: t4, transA: true, causal: 'upperA' }, kernel: v4 },
    { name: 'upperA_nt_beta1', spec: { M: t4, N: 20, K: t4, transB: true, beta: 1, causal: 'upperA' }, kernel: v4 },
    { name: 'scores_nt', spec: { batch: 2, M: t4, N: t4, K: 16, transB: true, causal: 'lowerOutput' }, kernel: direct },
    { name: 'P·V_nn', spec: { batch: 2, M: t4, N: 16, K: t4, causal: 'lowerA' }, kernel: direct },
    { name: 'Pᵀ·dY_tn', spec: { batch: 2, M: t4, N: 16, K: t4, transA: true, causal: 'upperA' }, kernel: direct },
    { name: 'upperA_nt_beta1', spec: { M: t4, N: 20, K: t4, transB: true, beta: 1, causal: 'upperA' }, kernel: direct },
    // split-K of one matrix (a short last split) and batched split-K (K of each matrix in splits)
    { name: 'lowerA_splitk3_nn', spec: { M: t4, N: 20, K: t4, causal: 'lowerA' }, kernel: splitK(3) },
    {
      name: 'scores_splitk2_nt',
      spec: { M: 200, N: 200, K: 40, transB: true, causal: 'lowerOutput' },
      kernel: splitK(2),
    },
    {
      name: 'Pᵀ·dY_batch3_splitk2_tn',
      spec: { batch: 3, M: t4, N: 16, K: t4, transA: true, causal: 'upperA' },
      kernel: splitK(2),
    },
    {
      name: 'dS·K_batch3_splitk3_nn',
      spec: { batch: 3, M: t4, N: 16, K: t4, causal: 'lowerA' },
      kernel: splitK(3),
    },
    {
      name: 'Pᵀ·dY_batch2_splitk4_tn',
      spec: { batch: 2, M: 256, N: 64, K: 256, transA: true, causal: 'upperA' },
      kernel: splitK(4),
    },
  ];
}

export const matmulCausalCheck: KernelCheck = {
  name: 'matmul_causal',
  async run(ctx) {
    const split = vec4ConfigProblem(ctx, SPLIT_TILES) === null ? SPLIT_TILES : defaultVec4Config(ctx);
    const out: CheckResult[] = [];
    let seed = 900;
    for (const c of cases(defaultMatmulConfig(ctx), defaultVec4Config(ctx), split))
      out.push(...(await runCase(ctx, c, (seed += 10))));
    return out;
  },
};
