// What a matmul computes (MatmulSpec: shapes, batch strides, transposes, alpha, beta, causal
// skipping), its validation against the operands, and the Params fields every matmul shader
// begins with. Shared by the matmul kernels (matmul.ts, matmul-direct.ts).
import { MAX_WORKGROUPS_PER_DIM } from '../dispatch';
import { describe, type GpuTensor } from '../tensor';

/** Work a causal mask makes moot, skipped at whole tiles and K steps (numbers unchanged: what
 * is left out is never read, or sums of exact zeros):
 * - 'lowerOutput': only C[i, j] with j ≤ i is needed (attention's scores Q·Kᵀ and their gradient
 *   dY·Vᵀ, which the causal softmax reads only there); tiles wholly above the diagonal are not
 *   computed, so C there is left unspecified;
 * - 'lowerA': op(A)[i, k] = 0 for k > i (probabilities P or score gradients dS as A): the K loop
 *   of an output tile ends after the tile's last row;
 * - 'upperA': op(A)[i, k] = 0 for k < i (Pᵀ or dSᵀ as A): it starts at the tile's first row. */
export type MatmulCausal = 'none' | 'lowerOutput' | 'lowerA' | 'upperA';
export const CAUSAL_CODES: Record<MatmulCausal, number> = { none: 0, lowerOutput: 1, lowerA: 2, upperA: 3 };

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
  /** default 'none' */
  causal?: MatmulCausal;
}

export type ResolvedSpec = Required<MatmulSpec>;

export function resolveMatmulSpec(spec: MatmulSpec): ResolvedSpec {
  const { M, N, K } = spec;
  const batch = spec.batch ?? 1;
  for (const [key, v] of Object.entries({ M, N, K, batch })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`matmul: spec.${key} must be a positive integer, got ${v}`);
  }
  const r: ResolvedSpec = {
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
    causal: spec.causal ?? 'none',
  };
  if (!Object.hasOwn(CAUSAL_CODES, r.causal))
    throw new Error(`matmul: spec.causal must be one of ${Object.keys(CAUSAL_CODES).join(', ')}, got ${r.causal}`);
  for (const key of ['strideA', 'strideB', 'strideC'] as const) {
    if (!Number.isInteger(r[key]) || r[key] < 0)
      throw new Error(`matmul: spec.${key} must be a non-negative integer, got ${r[key]}`);
  }
  if (batch > MAX_WORKGROUPS_PER_DIM) throw new Error(`matmul: batch ${batch} > ${MAX_WORKGROUPS_PER_DIM}`);
  return r;
}

/** Throws unless A, B and C hold what the spec reads and writes, and C shares no buffer with A or B. */
export function checkOperands(a: GpuTensor, b: GpuTensor, c: GpuTensor, s: ResolvedSpec): void {
  const fits = (t: GpuTensor, role: string, stride: number, size: number) => {
    const need = (s.batch - 1) * stride + size;
    if (need > t.length)
      throw new Error(`matmul: ${role} ${describe(t)} holds ${t.length} elements, the spec needs ${need}`);
  };
  fits(a, 'A', s.strideA, s.M * s.K);
  fits(b, 'B', s.strideB, s.K * s.N);
  fits(c, 'C', s.strideC, s.M * s.N);
  if (c.buffer === a.buffer || c.buffer === b.buffer) {
    throw new Error(
      `matmul: C ${describe(c)} shares a GPUBuffer with ${c.buffer === a.buffer ? 'A' : 'B'}; WebGPU forbids writing a buffer bound twice in one dispatch`,
    );
  }
}

/** Throws where a causal spec cannot run on a tile config: K steps must not straddle a tile's
 * first or last row, and a fused epilogue must see every output. */
export function checkCausal(kernel: string, s: ResolvedSpec, cfg: { BM: number; BK: number }, epilogue = 'none'): void {
  if (s.causal === 'none') return;
  if (cfg.BM % cfg.BK !== 0)
    throw new Error(`${kernel}: causal '${s.causal}' needs BM ${cfg.BM} a multiple of BK ${cfg.BK}`);
  if (s.causal === 'lowerOutput' && epilogue !== 'none' && epilogue !== 'probsFromLse')
    throw new Error(`${kernel}: no '${epilogue}' epilogue with causal 'lowerOutput' (it skips outputs)`);
}

export function checkGrid(gridM: number, gridN: number, s: ResolvedSpec): void {
  if (gridN > MAX_WORKGROUPS_PER_DIM || gridM > MAX_WORKGROUPS_PER_DIM)
    throw new Error(`matmul: ${s.M}×${s.N} needs a ${gridM}×${gridN} grid, over ${MAX_WORKGROUPS_PER_DIM}`);
}

/** Whether matmul_vec4.wgsl can run this product: every dimension, stride and offset a multiple of 4 elements. */
export function vec4Aligned(spec: MatmulSpec, ...tensors: GpuTensor[]): boolean {
  const s = resolveMatmulSpec(spec);
  const dims = [s.M, s.N, s.K, s.strideA, s.strideB, s.strideC];
  return dims.every((d) => d % 4 === 0) && tensors.every((t) => t.offset % 16 === 0);
}

/** The fields every matmul shader's Params begins with: M, N, K, the three strides, alpha, beta. */
export function productParams(
  s: Pick<ResolvedSpec, 'M' | 'N' | 'K' | 'strideA' | 'strideB' | 'strideC' | 'alpha' | 'beta'>,
): ['u32' | 'f32', number][] {
  return [
    ['u32', s.M],
    ['u32', s.N],
    ['u32', s.K],
    ['u32', s.strideA],
    ['u32', s.strideB],
    ['u32', s.strideC],
    ['f32', s.alpha],
    ['f32', s.beta],
  ];
}

/** The fields of the vec4 kernels' Params (lib/matmul_vec4_bindings.wgsl): productParams, then layer z
 *  computes split z % splits of matrix z / splits over k in [j·kStep, j·kStep + kLen), with s's causal mode. */
export function vec4ProductParams(
  s: Parameters<typeof productParams>[0] & Pick<ResolvedSpec, 'causal'>,
  kStep: number,
  kLen: number,
  splits: number,
): ['u32' | 'f32', number][] {
  return [...productParams(s), ['u32', kStep], ['u32', kLen], ['u32', CAUSAL_CODES[s.causal]], ['u32', splits]];
}
