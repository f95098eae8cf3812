// Batched GEMM, C[i] = alpha·op(A[i])·op(B[i]) + beta·C[i]: matmul_vec4.wgsl where every
// operand is 16-byte aligned (vec4 loads, split-K for small output grids, fused epilogues),
// matmul.wgsl otherwise (any shape and stride); on a CPU fallback adapter matmul_direct.wgsl
// for aligned operands (matmul-direct.ts).
import scalarCode from '../../../shaders/matmul.wgsl?raw';
import vec4Code from '../../../shaders/matmul_vec4.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, MAX_WORKGROUPS_PER_DIM } from '../dispatch';
import {
  CAUSAL_CODES,
  checkCausal,
  checkGrid,
  checkOperands,
  type MatmulSpec,
  productParams,
  type ResolvedSpec,
  resolveMatmulSpec,
  vec4Aligned,
  vec4ProductParams,
} from './matmul-spec';
import type { GpuTensor } from '../tensor';
import {
  defaultMatmulConfig,
  defaultVec4Config,
  type MatmulConfig,
  matmulConfigProblem,
  SMALL_TILES,
  SPLIT_TILES,
  matmulConfigName,
  type Vec4Config,
  WIDE_TILES,
  vec4ConfigName,
  vec4ConfigProblem,
} from './matmul-config';
import { matmulDirect } from './matmul-direct';
import { type MatmulEpilogue, epilogueBindings } from './matmul-epilogue';
import { splitKReduce, splitKReduceBatched, splitKWorkspace } from './matmul-splitk';

export * from './matmul-config';
export * from './matmul-spec';
export type { MatmulEpilogue } from './matmul-epilogue';

/** A product with fewer 128×128 output tiles than this leaves a large GPU idle: matmul() splits K. */
export const SPLIT_K_BELOW_TILES = 200;
/** ...into S splits of 128×64 tiles, the smallest S of SPLIT_K_COUNTS giving this many workgroups, */
export const SPLIT_K_TARGET_WORKGROUPS = 2048;
export const SPLIT_K_COUNTS: readonly number[] = [2, 3, 4, 6, 8, 12, 16];
/** ...each split keeping at least this much of K (its partial sums cost an extra M×N write and read); */
export const SPLIT_K_MIN_K = 512;
/** ...or this much on a small product (smallSplitProduct): there each workgroup's walk along K is what
 *  the product waits for (the 50M layouts model's layers on the H200: 256 of K per split was the fastest;
 *  applied to every product it slowed NeoX 125M, bench/README.md) */
export const SPLIT_K_MIN_K_SMALL = 256;

/** A single product with K ≤ 1024 and fewer than 192 cfg tiles. None of NeoX 125M's at seq 2048 is one. Pure. */
export function smallSplitProduct(spec: MatmulSpec, cfg: Vec4Config): boolean {
  const s = resolveMatmulSpec(spec);
  return s.batch === 1 && s.K <= 1024 && Math.ceil(s.M / cfg.BM) * Math.ceil(s.N / cfg.BN) < 192;
}

/** How many K splits of a cfg-tiled product give SPLIT_K_TARGET_WORKGROUPS (1: none fits). Pure. */
export function splitKFor(spec: MatmulSpec, cfg: Vec4Config): number {
  const s = resolveMatmulSpec(spec);
  if (s.batch > 1) return 1;
  const tiles = Math.ceil(s.M / cfg.BM) * Math.ceil(s.N / cfg.BN);
  const minK = smallSplitProduct(s, cfg) ? SPLIT_K_MIN_K_SMALL : SPLIT_K_MIN_K;
  const fits = SPLIT_K_COUNTS.filter((n) => s.K / n >= minK);
  return fits.find((n) => tiles * n >= SPLIT_K_TARGET_WORKGROUPS) ?? fits[fits.length - 1] ?? 1;
}

/** Why K of each matrix of a batched product cannot be split `splits` ways (null: it can): workgroup
 * layer z = b·splits + j computes split j of matrix b into partial sums that splitKReduceBatched adds. */
export function batchedSplitProblem(spec: MatmulSpec, splits: number): string | null {
  const s = resolveMatmulSpec(spec);
  if (s.batch * splits > MAX_WORKGROUPS_PER_DIM) return `${s.batch}·${splits} layers > ${MAX_WORKGROUPS_PER_DIM}`;
  if (s.batch * splits * s.M * s.N >= 2 ** 32) return 'the partial sums overflow u32 indices';
  return null;
}

/** How many K splits of each matrix a batched product gets (1: none; see batchedSplitProblem). Pure.
 * Attention's dV = Pᵀ·dY, dK = dSᵀ·Q and dQ = dS·K (B·h matrices of T × hd, K = T) fill too few
 * tiles otherwise. Same targets as splitKFor, with whole BK steps per split. */
export function batchedSplitKFor(spec: MatmulSpec, cfg: Vec4Config): number {
  const s = resolveMatmulSpec(spec);
  if (s.batch === 1) return 1;
  const tiles = Math.ceil(s.M / cfg.BM) * Math.ceil(s.N / cfg.BN) * s.batch;
  if (tiles >= SPLIT_K_TARGET_WORKGROUPS) return 1;
  const fits = SPLIT_K_COUNTS.filter(
    (n) => batchedSplitProblem(s, n) === null && (s.K / n) % cfg.BK === 0 && s.K / n >= SPLIT_K_MIN_K,
  );
  return fits.find((n) => tiles * n >= SPLIT_K_TARGET_WORKGROUPS) ?? fits[fits.length - 1] ?? 1;
}

/** The default matmul.wgsl config, or small tiles when its grid would leave a GPU idle. */
export function chooseMatmulConfig(ctx: GpuContext, spec: MatmulSpec): MatmulConfig {
  const big = defaultMatmulConfig(ctx);
  const grid = Math.ceil(spec.M / big.BM) * Math.ceil(spec.N / big.BN) * (spec.batch ?? 1);
  return grid < 160 && matmulConfigProblem(ctx, SMALL_TILES) === null ? SMALL_TILES : big;
}

/** Whether matmul() can fuse an epilogue into this product (vec4 path, one matrix). */
export function matmulFusable(spec: MatmulSpec, a: GpuTensor, b: GpuTensor, c: GpuTensor): boolean {
  return (spec.batch ?? 1) === 1 && vec4Aligned(spec, a, b, c);
}

/** Whether to fuse the forward's bias (+ GELU) into the product: where it can, except on a CPU
 *  fallback adapter (SwiftShader), where each fused variant is one more pipeline that takes seconds
 *  to compile in every tab (measured: 2.5 s each) and the separate dispatches cost nothing extra.
 *  The GELU backward stays fused there: the activation count (plan's memory table) assumes it. */
export function fuseBiasEpilogue(ctx: GpuContext, spec: MatmulSpec, a: GpuTensor, b: GpuTensor, c: GpuTensor): boolean {
  return !ctx.adapter?.isFallbackAdapter && matmulFusable(spec, a, b, c);
}

/** Which kernel, tile config and number of K splits matmul() uses for a product. */
export type MatmulPlan =
  | { kernel: 'vec4'; config: Vec4Config; splits: number }
  | { kernel: 'scalar'; config: MatmulConfig; splits: 1 }
  | { kernel: 'direct'; splits: 1 };

/** A plan as one word, e.g. 'vec4:v128x64x16g8qk4' (kernel, tile config, K splits); for benchmarks and tests. */
export function matmulPlanName(p: MatmulPlan): string {
  const config =
    p.kernel === 'vec4' ? vec4ConfigName(p.config) : p.kernel === 'scalar' ? matmulConfigName(p.config) : '4x4';
  return `${p.kernel}:${config}k${p.splits}`;
}

/** Per product, from the H200 sweep (bench/README.md): small output grids split K over 128×64
 * tiles, and so do batched Aᵀ·B products with few tiles (each matrix's K, batchedSplitKFor), other
 * batches at most 64 wide take 128×64 tiles (the H200 step profile, bench/README.md); plain single
 * products (no transpose) run matmul.wgsl, whose scalar loads of A beat vec4 loads stored
 * transposed (batched ones, attention's, do better on vec4); Aᵀ·B (weight gradients) 128×256
 * tiles; the rest the default vec4 tiles. A CPU fallback adapter (SwiftShader) takes
 * matmul_direct.wgsl for every aligned product (matmul-direct.ts: it compiles ~8× faster there). */
export function planMatmul(
  ctx: GpuContext,
  spec: MatmulSpec,
  a: GpuTensor,
  b: GpuTensor,
  c: GpuTensor,
  fused = false,
): MatmulPlan {
  const scalar = (): MatmulPlan => ({ kernel: 'scalar', config: chooseMatmulConfig(ctx, spec), splits: 1 });
  if (!vec4Aligned(spec, a, b, c)) return scalar();
  const vec4 = (config: Vec4Config, splits = 1): MatmulPlan => ({ kernel: 'vec4', config, splits });
  if (ctx.adapter?.isFallbackAdapter) return { kernel: 'direct', splits: 1 };
  const base = defaultVec4Config(ctx);
  const fits = (cfg: Vec4Config) => vec4ConfigProblem(ctx, cfg) === null;
  const s = resolveMatmulSpec(spec);
  const tiles128 = Math.ceil(s.M / 128) * Math.ceil(s.N / 128);
  if (s.batch === 1 && tiles128 < SPLIT_K_BELOW_TILES && fits(SPLIT_TILES)) {
    const splits = splitKFor(spec, SPLIT_TILES);
    if (splits > 1) return vec4(SPLIT_TILES, splits);
  }
  if (s.batch > 1 && fits(SPLIT_TILES)) {
    const splits = batchedSplitKFor(spec, SPLIT_TILES);
    if (splits > 1) return vec4(SPLIT_TILES, splits);
    // a 128-wide tile would compute as many zeros as outputs (attention's P·V and dS·K, hd = 64)
    if (s.N <= SPLIT_TILES.BN) return vec4(SPLIT_TILES);
  }
  if (!s.transA && !s.transB && s.batch === 1 && !fused) return scalar();
  if (s.transA && !s.transB && fits(WIDE_TILES)) return vec4(WIDE_TILES);
  return vec4(base);
}

/** C[i] = epilogue(alpha · op(A[i]) · op(B[i]) + beta · C[i]), i < batch; see MatmulSpec and
 * MatmulEpilogue (fused epilogues need matmulFusable). One dispatch, or two with split-K. */
export function matmul(
  ctx: GpuContext,
  a: GpuTensor,
  b: GpuTensor,
  c: GpuTensor,
  spec: MatmulSpec,
  epilogue: MatmulEpilogue = { kind: 'none' },
): Dispatch[] {
  const plan = planMatmul(ctx, spec, a, b, c, epilogue.kind !== 'none');
  if (plan.kernel === 'direct') return [matmulDirect(ctx, a, b, c, spec, epilogue)];
  if (plan.kernel === 'vec4') return matmulVec4With(ctx, a, b, c, spec, plan.config, plan.splits, epilogue);
  if (epilogue.kind !== 'none')
    throw new Error(`matmul: a fused '${epilogue.kind}' epilogue needs 16-byte aligned operands (see matmulFusable)`);
  return [matmulWith(ctx, a, b, c, spec, plan.config)];
}

/** matmul.wgsl with an explicit tile config (any shape; benchmarks and checks). */
export function matmulWith(
  ctx: GpuContext,
  a: GpuTensor,
  b: GpuTensor,
  c: GpuTensor,
  spec: MatmulSpec,
  cfg: MatmulConfig,
): Dispatch {
  const s = resolveMatmulSpec(spec);
  checkOperands(a, b, c, s);
  const problem = matmulConfigProblem(ctx, cfg);
  if (problem) throw new Error(`matmul: ${problem}`);
  checkCausal('matmul', s, cfg);
  const gridN = Math.ceil(s.N / cfg.BN);
  const gridM = Math.ceil(s.M / cfg.BM);
  checkGrid(gridM, gridN, s);
  const aligned = s.M % cfg.BM === 0 && s.N % cfg.BN === 0 && s.K % cfg.BK === 0;
  const constants = {
    BM: cfg.BM,
    BN: cfg.BN,
    BK: cfg.BK,
    STAGES: cfg.STAGES,
    PREFETCH: cfg.PREFETCH ? 1 : 0,
    GROUP_M: cfg.GROUP_M,
    TRANS_A: s.transA ? 1 : 0,
    TRANS_B: s.transB ? 1 : 0,
    CHECK_BOUNDS: aligned ? 0 : 1,
  };
  const label = `matmul_${s.transA ? 't' : 'n'}${s.transB ? 't' : 'n'}`;
  const params = uniforms([...productParams(s), ['u32', CAUSAL_CODES[s.causal]]]);
  return ctx.bind(label, ctx.pipeline(label, scalarCode, constants), [a, b, c, params], [gridN, gridM, s.batch]);
}

/** matmul_vec4.wgsl with an explicit tile config and number of K splits (benchmarks and checks). */
export function matmulVec4With(
  ctx: GpuContext,
  a: GpuTensor,
  b: GpuTensor,
  c: GpuTensor,
  spec: MatmulSpec,
  cfg: Vec4Config,
  splits = 1,
  epilogue: MatmulEpilogue = { kind: 'none' },
): Dispatch[] {
  const s = resolveMatmulSpec(spec);
  checkOperands(a, b, c, s);
  if (!vec4Aligned(spec, a, b, c))
    throw new Error(`matmul_vec4: ${s.M}×${s.N}×${s.K}, its strides and offsets must be multiples of 4 elements`);
  const problem = vec4ConfigProblem(ctx, cfg);
  if (problem) throw new Error(`matmul_vec4: ${problem}`);
  if (!Number.isInteger(splits) || splits < 1) throw new Error(`matmul_vec4: splits must be ≥ 1, got ${splits}`);
  checkCausal('matmul_vec4', s, cfg, epilogue.kind);
  const batchedSplit = splits > 1 && s.batch > 1;
  if (batchedSplit) {
    if (epilogue.kind !== 'none') throw new Error(`matmul_vec4: no '${epilogue.kind}' epilogue on a batched split-K`);
    const problem = batchedSplitProblem(s, splits);
    if (problem) throw new Error(`matmul_vec4: ${splits} K splits of a batched product: ${problem}`);
  }
  const gridN = Math.ceil(s.N / cfg.BN);
  const gridM = Math.ceil(s.M / cfg.BM);
  checkGrid(gridM, gridN, s);
  // split j of a matrix covers k in [j·kLen, (j+1)·kLen): whole BK steps except perhaps in the last
  const kLen = splits > 1 ? Math.ceil(s.K / splits / cfg.BK) * cfg.BK : s.K;
  const used = Math.ceil(s.K / kLen);
  if (used > 1 && epilogue.kind === 'probsFromLse')
    throw new Error("matmul_vec4: no 'probsFromLse' epilogue with split-K");
  const ext = epilogueBindings(ctx, 'matmul_vec4', epilogue, c, s, { A: a, B: b });
  const whole = s.M % cfg.BM === 0 && s.N % cfg.BN === 0 && s.K % cfg.BK === 0 && kLen % cfg.BK === 0;
  const constants = {
    BM: cfg.BM,
    BN: cfg.BN,
    BK: cfg.BK,
    GROUP_M: cfg.GROUP_M,
    KQ_FAST: cfg.KQ_FAST ? 1 : 0,
    TRANS_A: s.transA ? 1 : 0,
    TRANS_B: s.transB ? 1 : 0,
    CHECK_BOUNDS: whole ? 0 : 1,
    EPILOGUE: used > 1 ? 0 : ext.code,
  };
  const label = `matmul_vec4_${s.transA ? 't' : 'n'}${s.transB ? 't' : 'n'}`;
  const pipeline = ctx.pipeline(label, vec4Code, constants);
  // layers per matrix: `used` with split-K, else 1 (a layer per matrix of the batch)
  const params = (out: ResolvedSpec, alpha: number, beta: number, kStep: number, perMatrix: number) =>
    uniforms(vec4ProductParams({ ...out, M: s.M, N: s.N, alpha, beta, causal: s.causal }, kStep, kLen, perMatrix));
  if (used === 1) {
    const bindings = [a, b, c, params(s, s.alpha, s.beta, 0, 1), ext.bias, ext.aux];
    return [ctx.bind(label, pipeline, bindings, [gridN, gridM, s.batch])];
  }
  // layer z = b·used + j is split j of matrix b; its partial sums at z·M·N. One matrix: strides A and B 0
  const partial = splitKWorkspace(ctx, s.batch * used * s.M * s.N);
  const strides = batchedSplit ? { strideC: s.M * s.N } : { strideA: 0, strideB: 0, strideC: s.M * s.N };
  const bindings = [a, b, partial, params({ ...s, ...strides }, 1, 0, kLen, used), ext.bias, ext.aux];
  return [
    ctx.bind(`${label}_splitk`, pipeline, bindings, [gridN, gridM, s.batch * used]),
    batchedSplit ? splitKReduceBatched(ctx, partial, c, s, used) : splitKReduce(ctx, partial, c, s, used, ext),
  ];
}
