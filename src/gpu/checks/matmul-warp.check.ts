// matmul_warp.wgsl (the vec4 product with a warp-tiled inner loop, one or two workgroup buffers)
// against the f64 reference: every case of the vec4 check (transposes, edges that are not whole
// tiles, strided batches, beta, split-K; not batched split-K, which it lacks) and every fused epilogue, under each
// WARP_CONFIGS entry that fits the device. A 'one-case' sweep (Chromium's spec, where shader
// compiles dominate) runs a few cases on the first config and one on the second.
import type { GpuContext } from '../context';
import { WARP_CONFIGS, type Vec4Config, vec4ConfigProblem } from '../kernels/matmul';
import type { CheckResult, KernelCheck, Sweep } from './harness';
import { CASES, epilogueCase, runCase } from './matmul-vec4.check';

// both transposed stores, edges, whole tiles, split-K
const FEW = ['68x36x132_nt', '68x36x132_tn', 'whole_nn', 'splitk3_nn'];

async function configCases(ctx: GpuContext, cfg: Vec4Config, seed: number, few?: number): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const ours = CASES.filter((c) => !((c.splits ?? 1) > 1 && (c.spec.batch ?? 1) > 1));
  const cases = few === undefined ? ours : ours.filter((c) => FEW.slice(0, few).includes(c.name));
  for (const c of cases) out.push(await runCase(ctx, c, cfg, (seed += 10)));
  const kinds = few === undefined ? (['bias', 'biasGelu', 'geluBackward'] as const) : [];
  for (const kind of kinds) {
    for (const splits of [1, 3]) out.push(...(await epilogueCase(ctx, kind, splits, cfg, (seed += 10))));
  }
  return out;
}

// a bench-only kernel: 'one-case' (CI's Chromium spec, where each pipeline costs seconds to compile) checks
// the first two fitting configs; the GPU runs (`checks.ts`, 'full') check every one
const fewFor = (sweep: Sweep, i: number) => (sweep === 'full' ? undefined : i === 0 ? FEW.length : i === 1 ? 1 : 0);

export const matmulWarpCheck: KernelCheck = {
  name: 'matmul_warp',
  async run(ctx, sweep) {
    const fits = WARP_CONFIGS.filter((cfg) => vec4ConfigProblem(ctx, cfg) === null);
    if (!fits.length) throw new Error('matmul_warp: no WARP_CONFIGS entry fits this device');
    const out: CheckResult[] = [];
    let seed = 900;
    for (const [i, cfg] of fits.entries()) out.push(...(await configCases(ctx, cfg, (seed += 1000), fewFor(sweep, i))));
    return out;
  },
};
