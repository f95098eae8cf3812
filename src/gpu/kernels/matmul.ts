import code from '../../../shaders/matmul.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, MAX_WORKGROUPS_PER_DIM } from '../dispatch';
import { describe, type GpuTensor } from '../tensor';

export interface MatmulSpec {
  M: number;
  N: number;
  K: number;
  batch?: number;
  transA?: boolean;
  transB?: boolean;
  alpha?: number;
  beta?: number;
  strideA?: number;
  strideB?: number;
  strideC?: number;
}

/** Tiling of one matmul pipeline: a BM×BN tile of C per workgroup (8×8 per invocation), K in
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

/** Variants tried by the benchmark sweep and exercised by the kernel checks, fastest first as
 * measured on an H100 (bench/README.md): the first that fits a real GPU is the default. */
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
export function matmulSharedBytes(cfg: MatmulConfig): number {
  return cfg.STAGES * cfg.BK * (cfg.BM / 4 + 1 + cfg.BN / 4 + 1) * 16;
}

/** Why a config cannot run on this device, or null when it can. */
export function matmulConfigProblem(ctx: GpuContext, cfg: MatmulConfig): string | null {
  const { BM, BN, BK } = cfg;
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
  if (cfg.STAGES === 1 && !cfg.PREFETCH)
    return 'one stage needs PREFETCH (the buffer is busy until the step is computed)';
  const bytes = matmulSharedBytes(cfg);
  if (bytes > lim.maxComputeWorkgroupStorageSize)
    return `${bytes} B workgroup memory > maxComputeWorkgroupStorageSize ${lim.maxComputeWorkgroupStorageSize}`;
  return null;
}

const SMALL_TILES = tiling(64, 64, 16, 1, true, 0);
/** Below this many big-tile workgroups a GPU is under-filled: an H100 ran mlp_up.dW
 * (3072×768×8192, 144 tiles of 128²) at 21.6 TFLOP/s with 128² tiles, 26.4 with 64². */
const SMALL_GRID = 160;

/** Tuned choice per adapter: CPU fallback (SwiftShader) prefers small tiles; real GPUs the
 * first MATMUL_CONFIGS entry that fits the limits. */
export function defaultMatmulConfig(ctx: GpuContext): MatmulConfig {
  const order = ctx.adapter?.isFallbackAdapter ? [SMALL_TILES, ...MATMUL_CONFIGS] : MATMUL_CONFIGS;
  const ok = order.find((cfg) => matmulConfigProblem(ctx, cfg) === null);
  if (!ok)
    throw new Error(`matmul: no tile config fits this device (limits ${JSON.stringify(ctx.adapter?.limits ?? {})})`);
  return ok;
}

interface Resolved {
  M: number;
  N: number;
  K: number;
  batch: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;
  strideA: number;
  strideB: number;
  strideC: number;
}

function resolve(spec: MatmulSpec): Resolved {
  const { M, N, K } = spec;
  const batch = spec.batch ?? 1;
  for (const [key, v] of Object.entries({ M, N, K, batch })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`matmul: spec.${key} must be a positive integer, got ${v}`);
  }
  const r: Resolved = {
    M,
    N,
    K,
    batch,
    transA: spec.transA ?? false,
    transB: spec.transB ?? false,
    alpha: spec.alpha ?? 1,
    beta: spec.beta ?? 0,
    strideA: spec.strideA ?? M * K,
    strideB: spec.strideB ?? K * N,
    strideC: spec.strideC ?? M * N,
  };
  for (const key of ['strideA', 'strideB', 'strideC'] as const) {
    if (!Number.isInteger(r[key]) || r[key] < 0)
      throw new Error(`matmul: spec.${key} must be a non-negative integer, got ${r[key]}`);
  }
  if (batch > MAX_WORKGROUPS_PER_DIM) throw new Error(`matmul: batch ${batch} > ${MAX_WORKGROUPS_PER_DIM}`);
  return r;
}

function checkFits(t: GpuTensor, role: string, stride: number, size: number, batch: number): void {
  const need = (batch - 1) * stride + size;
  if (need > t.length)
    throw new Error(`matmul: ${role} ${describe(t)} holds ${t.length} elements, the spec needs ${need}`);
}

/** The default config, or small tiles when the default's grid would leave a GPU idle. */
export function chooseMatmulConfig(ctx: GpuContext, spec: MatmulSpec): MatmulConfig {
  const big = defaultMatmulConfig(ctx);
  const grid = Math.ceil(spec.M / big.BM) * Math.ceil(spec.N / big.BN) * (spec.batch ?? 1);
  return grid < SMALL_GRID && matmulConfigProblem(ctx, SMALL_TILES) === null ? SMALL_TILES : big;
}

/** C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i], i < batch; see MatmulSpec. */
export function matmul(ctx: GpuContext, a: GpuTensor, b: GpuTensor, c: GpuTensor, spec: MatmulSpec): Dispatch {
  return matmulWith(ctx, a, b, c, spec, chooseMatmulConfig(ctx, spec));
}

/** matmul with an explicit tile config (benchmarks and checks). */
export function matmulWith(
  ctx: GpuContext,
  a: GpuTensor,
  b: GpuTensor,
  c: GpuTensor,
  spec: MatmulSpec,
  cfg: MatmulConfig,
): Dispatch {
  const s = resolve(spec);
  checkFits(a, 'A', s.strideA, s.M * s.K, s.batch);
  checkFits(b, 'B', s.strideB, s.K * s.N, s.batch);
  checkFits(c, 'C', s.strideC, s.M * s.N, s.batch);
  if (c.buffer === a.buffer || c.buffer === b.buffer) {
    throw new Error(
      `matmul: C ${describe(c)} shares a GPUBuffer with ${c.buffer === a.buffer ? 'A' : 'B'}; WebGPU forbids writing a buffer bound twice in one dispatch`,
    );
  }
  const problem = matmulConfigProblem(ctx, cfg);
  if (problem) throw new Error(`matmul: ${problem}`);
  const gridN = Math.ceil(s.N / cfg.BN);
  const gridM = Math.ceil(s.M / cfg.BM);
  if (gridN > MAX_WORKGROUPS_PER_DIM || gridM > MAX_WORKGROUPS_PER_DIM)
    throw new Error(`matmul: ${s.M}×${s.N} needs a ${gridM}×${gridN} grid, over ${MAX_WORKGROUPS_PER_DIM}`);
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
  const params = uniforms([
    ['u32', s.M],
    ['u32', s.N],
    ['u32', s.K],
    ['u32', s.strideA],
    ['u32', s.strideB],
    ['u32', s.strideC],
    ['f32', s.alpha],
    ['f32', s.beta],
  ]);
  return ctx.bind(label, ctx.pipeline(label, code, constants), [a, b, c, params], [gridN, gridM, s.batch]);
}
