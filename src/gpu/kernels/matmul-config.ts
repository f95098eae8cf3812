// Tile configs of the two matmul kernels and whether a device can run them: matmul.wgsl
// (any shape: scalar loads) and matmul_vec4.wgsl (16-byte aligned operands: vec4 loads and
// stores, split-K, fused epilogues). Sizes come from the device limits, never a GPU's name.
import type { GpuContext } from '../context';

/** Tiling of one matmul.wgsl pipeline: a BM×BN tile of C per workgroup (8×8 per invocation), K in
 * steps of BK, STAGES workgroup buffers, GROUP_M tile rows swept together (0 = row-major);
 * PREFETCH holds the next step in registers during compute (required with one stage). */
export interface MatmulConfig {
  BM: number;
  BN: number;
  BK: number;
  STAGES: 1 | 2;
  PREFETCH: boolean;
  GROUP_M: number;
}

const tiling = (
  BM: number,
  BN: number,
  BK: number,
  STAGES: 1 | 2,
  PREFETCH: boolean,
  GROUP_M: number,
): MatmulConfig => ({ BM, BN, BK, STAGES, PREFETCH, GROUP_M });

/** matmul.wgsl variants tried by the benchmark sweep and exercised by the kernel checks, fastest
 * first as measured on an H100 (bench/README.md): the first that fits a real GPU is the default. */
export const MATMUL_CONFIGS: readonly MatmulConfig[] = [
  tiling(128, 128, 16, 1, true, 8),
  tiling(128, 128, 8, 2, true, 8),
  tiling(128, 128, 16, 2, true, 8),
  tiling(128, 128, 16, 2, false, 8),
  tiling(128, 128, 8, 2, false, 8),
  tiling(128, 128, 32, 1, true, 8),
  tiling(128, 128, 16, 2, true, 0),
  tiling(64, 128, 16, 2, true, 8),
  tiling(128, 64, 16, 2, true, 8),
  tiling(64, 64, 16, 2, true, 0),
  tiling(64, 64, 16, 1, true, 0),
  tiling(32, 32, 8, 1, true, 0),
];

export function matmulConfigName(c: MatmulConfig): string {
  return `${c.BM}x${c.BN}x${c.BK}s${c.STAGES}${c.PREFETCH ? 'p' : 'd'}g${c.GROUP_M}`;
}

/** Bytes of workgroup memory a config needs (padding included, worst case over transposes). */
export function matmulSharedBytes(cfg: { BM: number; BN: number; BK: number; STAGES?: number }): number {
  return (cfg.STAGES ?? 1) * cfg.BK * (cfg.BM / 4 + 1 + cfg.BN / 4 + 1) * 16;
}

/** Why a BM×BN×BK tile with 8×8 outputs per invocation cannot run on this device, or null. */
function tileProblem(ctx: GpuContext, BM: number, BN: number, BK: number, stages: number): string | null {
  if (BM % 8 || BN % 8 || BK < 1) return `tile ${BM}×${BN}×${BK}: BM and BN must be multiples of 8`;
  const threads = (BM / 8) * (BN / 8);
  const lim = ctx.limits;
  if (threads > lim.maxComputeInvocationsPerWorkgroup)
    return `${threads} invocations > maxComputeInvocationsPerWorkgroup ${lim.maxComputeInvocationsPerWorkgroup}`;
  if (BN / 8 > lim.maxComputeWorkgroupSizeX || BM / 8 > lim.maxComputeWorkgroupSizeY)
    return `workgroup ${BN / 8}×${BM / 8} over the size limits`;
  for (const rows of [BM, BN]) {
    const loads = (BK * rows) / (4 * threads);
    if (!Number.isInteger(loads) || loads < 1 || loads > 4)
      return `tile ${BM}×${BN}×${BK}: ${BK}·${rows}/4 loads do not split into 1..4 per invocation`;
  }
  const bytes = matmulSharedBytes({ BM, BN, BK, STAGES: stages });
  if (bytes > lim.maxComputeWorkgroupStorageSize)
    return `${bytes} B workgroup memory > maxComputeWorkgroupStorageSize ${lim.maxComputeWorkgroupStorageSize}`;
  return null;
}

/** Why a matmul.wgsl config cannot run on this device, or null when it can. */
export function matmulConfigProblem(ctx: GpuContext, cfg: MatmulConfig): string | null {
  if (cfg.STAGES === 1 && !cfg.PREFETCH)
    return 'one stage needs PREFETCH (the buffer is busy until the step is computed)';
  return tileProblem(ctx, cfg.BM, cfg.BN, cfg.BK, cfg.STAGES);
}

/** Tiling of one matmul_vec4.wgsl pipeline: BM×BN×BK as above (one workgroup buffer, the next step
 * in registers), GROUP_M, and KQ_FAST: a k-contiguous operand is read with neighbouring invocations
 * on neighbouring k quads (else on neighbouring rows). */
export interface Vec4Config {
  BM: number;
  BN: number;
  BK: number;
  GROUP_M: number;
  KQ_FAST: boolean;
}

const vtiling = (BM: number, BN: number, BK: number, GROUP_M: number, KQ_FAST = true): Vec4Config => ({
  BM,
  BN,
  BK,
  GROUP_M,
  KQ_FAST,
});

/** matmul_vec4.wgsl variants for the benchmark sweep and the checks; the first that fits a
 * real GPU is the default (ordered by the H200 sweep, bench/README.md). */
export const VEC4_CONFIGS: readonly Vec4Config[] = [
  vtiling(128, 128, 16, 8),
  vtiling(128, 128, 16, 8, false),
  vtiling(128, 128, 8, 8),
  vtiling(128, 128, 32, 8),
  vtiling(128, 256, 16, 8),
  vtiling(256, 128, 16, 8),
  vtiling(128, 256, 8, 8),
  vtiling(128, 64, 16, 8),
  vtiling(64, 128, 16, 8),
  vtiling(64, 64, 16, 8),
  vtiling(64, 64, 8, 0),
];

export function vec4ConfigName(c: Vec4Config): string {
  return `v${c.BM}x${c.BN}x${c.BK}g${c.GROUP_M}${c.KQ_FAST ? 'q' : 'r'}`;
}

export function vec4ConfigProblem(ctx: GpuContext, cfg: Vec4Config): string | null {
  if (cfg.BK % 4) return `BK ${cfg.BK} is not a multiple of 4`;
  return tileProblem(ctx, cfg.BM, cfg.BN, cfg.BK, 1);
}

const SMALL_TILES = tiling(64, 64, 16, 1, true, 0);
const SMALL_VEC4 = vtiling(64, 64, 8, 0);
/** split-K's tiles and those of large Aᵀ·B products (bench/README.md) */
const SPLIT_TILES = vtiling(128, 64, 16, 8);
const WIDE_TILES = vtiling(128, 256, 16, 8);

function firstFitting<T>(ctx: GpuContext, order: readonly T[], problem: (c: T) => string | null, what: string): T {
  const ok = order.find((cfg) => problem(cfg) === null);
  if (!ok) throw new Error(`${what}: no tile config fits this device (limits ${JSON.stringify(ctx.adapter?.limits)})`);
  return ok;
}

/** Tuned choice per adapter: a CPU fallback (SwiftShader) prefers small tiles; real GPUs the
 * first MATMUL_CONFIGS entry that fits the limits. */
export function defaultMatmulConfig(ctx: GpuContext): MatmulConfig {
  const order = ctx.adapter?.isFallbackAdapter ? [SMALL_TILES, ...MATMUL_CONFIGS] : MATMUL_CONFIGS;
  return firstFitting(ctx, order, (c) => matmulConfigProblem(ctx, c), 'matmul');
}

export function defaultVec4Config(ctx: GpuContext): Vec4Config {
  const order = ctx.adapter?.isFallbackAdapter ? [SMALL_VEC4, ...VEC4_CONFIGS] : VEC4_CONFIGS;
  return firstFitting(ctx, order, (c) => vec4ConfigProblem(ctx, c), 'matmul_vec4');
}

export { SMALL_TILES, SMALL_VEC4, SPLIT_TILES, WIDE_TILES };
