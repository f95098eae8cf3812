// matmul_direct.wgsl: the matmul of CPU fallback adapters (SwiftShader). Each invocation computes
// 4×4 outputs straight from global memory: no workgroup memory, no barriers. On a CPU device the
// tiled kernels' pipelines take 0.65–0.95 s each to compile and this one's 0.09–0.11 s (Dawn on
// SwiftShader here), and every tab compiles its own: that was most of a small run's start-up.
// Aligned operands only (as matmul_vec4.wgsl), every batch, transpose, causal mode and epilogue.
import directCode from '../../../shaders/matmul_direct.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import type { Dispatch } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { epilogueBindings, type MatmulEpilogue } from './matmul-epilogue';
import {
  checkCausal,
  checkGrid,
  checkOperands,
  type MatmulSpec,
  resolveMatmulSpec,
  vec4Aligned,
  vec4ProductParams,
} from './matmul-spec';

/** outputs per invocation along each side, and invocations per workgroup along each side */
const OUT = 4;
const WORKGROUP = 8;

/** C[i] = epilogue(alpha · op(A[i]) · op(B[i]) + beta · C[i]) through matmul_direct.wgsl: one dispatch. */
export function matmulDirect(
  ctx: GpuContext,
  a: GpuTensor,
  b: GpuTensor,
  c: GpuTensor,
  spec: MatmulSpec,
  epilogue: MatmulEpilogue = { kind: 'none' },
): Dispatch {
  const s = resolveMatmulSpec(spec);
  checkOperands(a, b, c, s);
  if (!vec4Aligned(spec, a, b, c))
    throw new Error(`matmul_direct: ${s.M}×${s.N}×${s.K}, its strides and offsets must be multiples of 4 elements`);
  checkCausal('matmul_direct', s, { BM: OUT, BK: OUT }, epilogue.kind);
  const ext = epilogueBindings(ctx, 'matmul_direct', epilogue, c, s, { A: a, B: b });
  const gridN = Math.ceil(s.N / (OUT * WORKGROUP));
  const gridM = Math.ceil(s.M / (OUT * WORKGROUP));
  checkGrid(gridM, gridN, s);
  const label = `matmul_direct_${s.transA ? 't' : 'n'}${s.transB ? 't' : 'n'}`;
  const constants = { TRANS_A: s.transA ? 1 : 0, TRANS_B: s.transB ? 1 : 0, EPILOGUE: ext.code };
  // one split per matrix: kStep 0, kLen K
  const params = uniforms(vec4ProductParams(s, 0, s.K, 1));
  return ctx.bind(
    label,
    ctx.pipeline(label, directCode, constants),
    [a, b, c, params, ext.bias, ext.aux],
    [gridN, gridM, s.batch],
  );
}
