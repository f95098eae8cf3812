// matmul_x16.wgsl (the vec4 product with 8×16 outputs per invocation) and the scalar loads of A
// (SCALAR_A, lib/matmul_vec4_io.wgsl) against the f64 reference: every case of the vec4 check
// (transposes, edges that are not whole tiles, strided batches, beta, split-K, batched split-K)
// and every fused epilogue, under each X16_CONFIGS entry that fits the device, and under the 8×8
// vec4 kernel with scalar loads of A. A 'one-case' sweep (Chromium's spec, where shader compiles
// dominate) runs a few cases on the first config and one on the second.
import type { GpuContext } from '../context';
import { defaultVec4Config, X16_CONFIGS, type Vec4Config, vec4ConfigProblem } from '../kernels/matmul';
import type { CheckResult, KernelCheck, Sweep } from './harness';
import { CASES, epilogueCase, runCase } from './matmul-vec4.check';

// both transposed stores, edges (nn takes the scalar loads of A), whole tiles, split-K, batched split-K
const FEW = ['68x36x132_nn', '68x36x132_tn', 'whole_nn', 'splitk3_nn', 'batch3_splitk4_tn'];

async function configCases(ctx: GpuContext, cfg: Vec4Config, seed: number, few?: number): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const cases = few === undefined ? CASES : CASES.filter((c) => FEW.slice(0, few).includes(c.name));
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

export const matmulX16Check: KernelCheck = {
  name: 'matmul_x16',
  async run(ctx, sweep) {
    const fits = X16_CONFIGS.filter((cfg) => vec4ConfigProblem(ctx, cfg) === null);
    if (!fits.length) throw new Error('matmul_x16: no X16_CONFIGS entry fits this device');
    const scalarA8x8: Vec4Config = { ...defaultVec4Config(ctx), SCALAR_A: true };
    const out: CheckResult[] = [];
    let seed = 1900;
    for (const [i, cfg] of [...fits, scalarA8x8].entries())
      out.push(...(await configCases(ctx, cfg, (seed += 1000), fewFor(sweep, i))));
    return out;
  },
};
