// Batched GEMM with f16 arithmetic (matmul_f16.wgsl) for devices with `shader-f16`, and the
// rule that picks it: the linear layers' products of an fp16 run. Operands and result stay f32
// in memory; the kernel rounds operands to f16 as it loads them and adds four-term
// dot(vec4<f16>, vec4<f16>) results into f32 accumulators (the shader's header says where f16
// arithmetic happens). bf16 has no WGSL arithmetic type: bf16 runs compute in f32.
import code from '../../../shaders/matmul_f16.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import type { Dispatch } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { checkGrid, checkOperands, type MatmulSpec, productParams, resolveMatmulSpec } from './matmul';

/** How a pass computes its linear layers' products. */
export type Arithmetic = 'f32' | 'f16';

/** A matrix of fp16 values inside a buffer of them packed two to a u32 (element 2i low in word i,
 *  model/half-weights.ts): `length` values from value `at` of `packed`. matmulF16 reads it as B. */
export interface PackedHalf {
  packed: GpuTensor;
  at: number;
  length: number;
  shape: readonly number[];
  name?: string;
}

/** A linear layer's weight as its products read it: f32, or straight from the packed fp16 copy. */
export type LinearWeight = GpuTensor | PackedHalf;

export const isPackedHalf = (w: LinearWeight): w is PackedHalf => 'packed' in w;

/** The weight as an f32 tensor; a packed one only f16 arithmetic reads (matmulF16). */
export function f32Weight(w: LinearWeight): GpuTensor {
  if (isPackedHalf(w)) throw new Error(`${w.name ?? 'weight'} is read packed (fp16): only matmul_f16 can read it`);
  return w;
}

/** The output tile of one workgroup (64×64, 16×16 invocations of 4×4 outputs). */
export const F16_TILE = 64;
/** f16's unit roundoff (round to nearest): half the spacing of f16 values at 1 */
export const F16_UNIT = 2 ** -11;

export function hasShaderF16(ctx: GpuContext): boolean {
  return ctx.device.features.has('shader-f16' as GPUFeatureName);
}

/** f16 where the run's 16-bit format is fp16 and the device has shader-f16; f32 otherwise
 *  (f32 runs, bf16 runs: WGSL has no bf16 arithmetic, and devices without shader-f16). */
export function arithmeticFor(ctx: GpuContext, format: 'fp16' | 'bf16' | null | undefined): Arithmetic {
  return format === 'fp16' && hasShaderF16(ctx) ? 'f16' : 'f32';
}

/** Largest |C − C_exact| of one output of matmulF16 (alpha 1, beta 0), from Σ_k |a_k·b_k| over
 *  its K terms (of the f32 operands). WGSL lets an f32 → f16 conversion round to either neighbour
 *  (2u per operand); the four products and three sums of one dot are correctly rounded f16
 *  operations (γ₄ ≈ 4u); adding K/4 such dots in f32 costs (K/4)·2⁻²⁴; and each product or
 *  partial dot that falls into f16's subnormal range (|x| < 2⁻¹⁴) may lose up to 2⁻¹⁴ where the
 *  device flushes subnormals (allowed), at most 2K of them. Overflow (|dot| > 65504) is not
 *  bounded: it gives ±Inf, as an fp16 product does anywhere (the loss scaler skips the step). */
export function f16MatmulErrorBound(sumAbs: number, K: number): number {
  const u = F16_UNIT;
  return (8 * u + (K / 4 + 2) * 2 ** -24) * sumAbs + 2 * K * 2 ** -14;
}

/** C[i] = alpha · op(A[i]) · op(B[i]) + beta · C[i] (MatmulSpec), products in f16 as above.
 *  Needs shader-f16 on the device; f32 operands of any shape, stride and offset, B also packed
 *  fp16 (PackedHalf). One dispatch. */
export function matmulF16(ctx: GpuContext, a: GpuTensor, b: LinearWeight, c: GpuTensor, spec: MatmulSpec): Dispatch {
  if (!hasShaderF16(ctx))
    throw new Error(
      `matmul_f16: the device has no shader-f16 (adapter ${ctx.adapter?.description || ctx.adapter?.device || '?'})`,
    );
  const s = resolveMatmulSpec(spec);
  if (s.causal !== 'none') throw new Error(`matmul_f16: causal '${s.causal}' is not supported (matmul() has it)`);
  const packed = isPackedHalf(b);
  if (packed && (!Number.isInteger(b.at) || b.at < 0 || b.at + b.length > 2 * b.packed.length))
    throw new Error(`matmul_f16: packed ${b.name ?? 'B'} [${b.at}, ${b.at + b.length}) is outside its buffer`);
  const bTensor: GpuTensor = packed ? { ...b.packed, length: b.length, shape: b.shape, name: b.name } : b;
  checkOperands(a, bTensor, c, s);
  const gridN = Math.ceil(s.N / F16_TILE);
  const gridM = Math.ceil(s.M / F16_TILE);
  checkGrid(gridM, gridN, s);
  const label = `matmul_f16_${s.transA ? 't' : 'n'}${s.transB ? 't' : 'n'}${packed ? '_packed' : ''}`;
  const params = uniforms([...productParams(s), ['u32', packed ? b.at : 0]]);
  const constants = { TRANS_A: s.transA ? 1 : 0, TRANS_B: s.transB ? 1 : 0, PACKED_B: packed ? 1 : 0 };
  const pipeline = ctx.pipeline(label, code, constants);
  return ctx.bind(label, pipeline, [a, packed ? b.packed : b, c, params], [gridN, gridM, s.batch]);
}
