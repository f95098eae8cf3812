// matmul_direct.wgsl (a CPU fallback adapter's matmul: 4×4 outputs per invocation, no workgroup
// memory) against the f64 reference: matmul_vec4's cases that do not split K (every transpose,
// edges, strided batches, alpha and beta, beta 0 over NaN) and each fused epilogue. Its causal
// modes are in matmul-causal.check.ts, its 'probsFromLse' epilogue in attention-causal.check.ts.
import type { GpuContext } from '../context';
import { matmulDirect } from '../kernels/matmul-direct';
import type { GpuTensor } from '../tensor';
import type { CheckResult, KernelCheck } from './harness';
import { CASES, epilogueCase, type ProductKernel, productCase } from './matmul-vec4.check';

const direct: ProductKernel = {
  name: 'matmul_direct epilogue',
  dispatch: (ctx, A, B, C, spec, e) => [matmulDirect(ctx, A, B, C, spec, e)],
  splits: 1,
};

export const matmulDirectCheck: KernelCheck = {
  name: 'matmul_direct',
  async run(ctx: GpuContext) {
    const out: CheckResult[] = [];
    let seed = 1300;
    for (const c of CASES.filter((x) => (x.splits ?? 1) === 1)) {
      const dispatch = (o: { A: GpuTensor; B: GpuTensor; C: GpuTensor }) => [matmulDirect(ctx, o.A, o.B, o.C, c.spec)];
      out.push(await productCase(ctx, c, `matmul_direct ${c.name}`, dispatch, (seed += 10)));
    }
    for (const kind of ['bias', 'biasGelu', 'geluBackward'] as const)
      out.push(...(await epilogueCase(ctx, kind, direct, (seed += 10))));
    return out;
  },
};
