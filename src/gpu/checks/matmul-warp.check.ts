// matmul_warp.wgsl (the vec4 product with a warp-tiled inner loop, one or two workgroup buffers)
// against the f64 reference: every case of the vec4 check (transposes, edges that are not whole
// tiles, strided batches, beta, split-K, batched split-K) and every fused epilogue, under each
// WARP_CONFIGS entry that fits the device.
import type { GpuContext } from '../context';
import { WARP_CONFIGS, type Vec4Config, vec4ConfigProblem } from '../kernels/matmul';
import type { CheckResult, KernelCheck } from './harness';
import { CASES, epilogueCase, runCase } from './matmul-vec4.check';

async function configCases(ctx: GpuContext, cfg: Vec4Config, seed: number): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of CASES) out.push(await runCase(ctx, c, cfg, (seed += 10)));
  for (const kind of ['bias', 'biasGelu', 'geluBackward'] as const) {
    for (const splits of [1, 3]) out.push(...(await epilogueCase(ctx, kind, splits, cfg, (seed += 10))));
  }
  return out;
}

export const matmulWarpCheck: KernelCheck = {
  name: 'matmul_warp',
  async run(ctx) {
    const fits = WARP_CONFIGS.filter((cfg) => vec4ConfigProblem(ctx, cfg) === null);
    if (!fits.length) throw new Error('matmul_warp: no WARP_CONFIGS entry fits this device');
    const out: CheckResult[] = [];
    let seed = 900;
    for (const cfg of fits) out.push(...(await configCases(ctx, cfg, (seed += 1000))));
    return out;
  },
};
