// Kernel benchmark for a GPU machine (Dawn in Node): matmul TFLOP/s at the shapes of
// bench/matmul-shapes.json plus a sweep of tile configs, and GB/s of the memory-bound kernels.
// Prints ONE JSON object on stdout (progress goes to stderr).
//   node tools/bundle-node.mjs build bench/kernels.ts && bash .gpu/run.sh kernels.mjs [options]
// options: --no-sweep  --no-shapes  --no-memory  --robustness-off (Dawn toggle, for comparison)
//          --only NAME[,NAME]  (matmul cases by name)  --tiny (one-tile shapes: a smoke test)
//          --configs 128x128x16s2g8[,...]  (sweep only these; the first is also used for the shapes)
import type { GpuContext } from '../src/gpu/context';
import { createNodeContext } from '../src/gpu/device-node';
import { defaultMatmulConfig, MATMUL_CONFIGS, type MatmulConfig, matmulConfigProblem } from '../src/gpu/kernels/matmul';
import { createFlaggedNodeContext } from './flagged-context';
import { MEMORY_CASES } from './memory';
import { benchMemoryCase, type MemResult } from './memory-bench';
import { benchMatmulCase, configName, MATMUL_CASES, type MatmulCase, type MatmulResult } from './matmul-bench';
import { Timer } from './timing';

const args = process.argv.slice(2);
const has = (flag: string) => args.includes(flag);
const value = (flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const log = (...x: unknown[]) => console.error('[bench]', ...x);

const SWEEP_CASES = ['cube4096', 'qkv.fwd', 'mlp_up.dW'];

function tinyCases(): MatmulCase[] {
  return [
    { name: 'tiny_nn', M: 64, N: 64, K: 48, transA: false, transB: false, beta: 0 },
    { name: 'tiny_nt', M: 64, N: 64, K: 48, transA: false, transB: true, beta: 0 },
    { name: 'tiny_tn_beta1', M: 60, N: 50, K: 33, transA: true, transB: false, beta: 1 },
  ];
}

async function withErrors<T extends { error?: string }>(ctx: GpuContext, run: () => Promise<T>): Promise<T> {
  ctx.device.pushErrorScope('out-of-memory');
  ctx.device.pushErrorScope('validation');
  const r = await run();
  const errs = [await ctx.device.popErrorScope(), await ctx.device.popErrorScope()].filter((e) => e);
  if (errs.length) r.error = [r.error, ...errs.map((e) => e!.message)].filter(Boolean).join('; ');
  return r;
}

async function main(): Promise<void> {
  const ctx = has('--robustness-off')
    ? await createFlaggedNodeContext(['enable-dawn-features=allow_unsafe_apis,disable_robustness'])
    : await createNodeContext();
  const timer = new Timer(ctx);
  log('adapter', ctx.adapter?.vendor, ctx.adapter?.device || ctx.adapter?.architecture, 'timing:', timer.method);
  let cases: readonly MatmulCase[] = has('--tiny') ? tinyCases() : MATMUL_CASES;
  const only = value('--only')?.split(',');
  if (only) cases = cases.filter((c) => only.includes(c.name));
  const picked = value('--configs')?.split(',');
  const configs = picked ? MATMUL_CONFIGS.filter((c) => picked.includes(configName(c))) : MATMUL_CONFIGS;
  if (picked && configs.length === 0)
    throw new Error(`--configs ${picked.join(',')}: none of ${MATMUL_CONFIGS.map(configName).join(' ')}`);
  const base = picked ? configs[0] : defaultMatmulConfig(ctx);
  const out: Record<string, unknown> = {
    adapter: ctx.adapter,
    timing: timer.method,
    robustness: !has('--robustness-off'),
    defaultConfig: configName(base),
  };

  const sweep: MatmulResult[] = [];
  if (!has('--no-sweep')) {
    const sweepCases = has('--tiny') ? cases : cases.filter((c) => SWEEP_CASES.includes(c.name));
    for (const cfg of configs) {
      const problem = matmulConfigProblem(ctx, cfg);
      if (problem) {
        log('sweep skips', configName(cfg), problem);
        continue;
      }
      for (const c of sweepCases) {
        const r = await withErrors(ctx, () => benchMatmulCase(ctx, timer, c, cfg, true));
        log(
          'sweep',
          r.config,
          r.name,
          r.tflops?.toFixed(2) ?? r.error,
          'TFLOP/s',
          'err',
          r.sampleRelErr?.toExponential(1),
        );
        sweep.push(r);
      }
    }
    out.sweep = sweep;
  }

  if (!has('--no-shapes')) {
    const configs: MatmulConfig[] = [base];
    // also the config that won the sweep on average, if it is not the default
    const byConfig = new Map<string, number[]>();
    for (const r of sweep) if (r.tflops) byConfig.set(r.config, [...(byConfig.get(r.config) ?? []), r.tflops]);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const best = [...byConfig.entries()].sort((x, y) => mean(y[1]) - mean(x[1]))[0]?.[0];
    const bestCfg = MATMUL_CONFIGS.find((c) => configName(c) === best);
    if (bestCfg && best !== configName(base)) configs.push(bestCfg);
    const matmul: MatmulResult[] = [];
    for (const cfg of configs) {
      for (const c of cases) {
        const r = await withErrors(ctx, () => benchMatmulCase(ctx, timer, c, cfg, true));
        log(
          r.config,
          r.name,
          `${r.M}x${r.N}x${r.K}`,
          r.tflops?.toFixed(2) ?? r.error,
          'TFLOP/s',
          'err',
          r.sampleRelErr?.toExponential(1),
        );
        matmul.push(r);
      }
    }
    out.matmul = matmul;
  }

  if (!has('--no-memory') && !has('--tiny')) {
    const memory: MemResult[] = [];
    for (const c of MEMORY_CASES) {
      const r = await withErrors(ctx, () => benchMemoryCase(ctx, timer, c));
      log(r.name, r.gbps?.toFixed(0) ?? r.error, 'GB/s');
      memory.push(r);
    }
    out.memory = memory;
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
  ctx.device.destroy();
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
