// Kernel benchmark for a GPU machine (Dawn in Node). Prints ONE JSON object on stdout
// (progress on stderr): matmul TFLOP/s at the shapes of bench/matmul-shapes.json for each way
// of running them (what matmul() picks, the old matmul.wgsl default, each matmul_vec4.wgsl
// config, split-K counts on small output grids), fused vs unfused causal attention, fused vs
// separate epilogues, and GB/s of the memory-bound kernels.
//   node tools/bundle-node.mjs build bench/kernels.ts && bash .gpu/run.sh kernels.mjs [options]
// options: --no-matmul --no-attention --no-fused --no-memory --robustness-off (Dawn toggle)
//          --only NAME[,NAME] (matmul cases)  --tiny (small shapes: a smoke test here)
//          --quick (shorter timing: 40 ms × 3 samples)  --few (auto and the old default only)
import type { GpuContext } from '../src/gpu/context';
import { createNodeContext } from '../src/gpu/device-node';
import {
  defaultMatmulConfig,
  defaultVec4Config,
  MATMUL_CONFIGS,
  VEC4_CONFIGS,
  vec4ConfigName,
  vec4ConfigProblem,
} from '../src/gpu/kernels/matmul';
import { benchAttention } from './attention-bench';
import { createFlaggedNodeContext } from './flagged-context';
import { benchFused } from './fused-bench';
import { MATMUL_CASES, type MatmulCase, type MatmulMethod, type MatmulResult, benchMatmulShape } from './matmul-bench';
import { MEMORY_CASES } from './memory';
import { benchMemoryCase, type MemResult } from './memory-bench';
import { Timer, type TimeOptions } from './timing';

const args = process.argv.slice(2);
const has = (flag: string) => args.includes(flag);
const value = (flag: string) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const log = (...x: unknown[]) => console.error('[bench]', ...x);

function tinyCases(): MatmulCase[] {
  return [
    { name: 'tiny_nn', M: 64, N: 64, K: 48, transA: false, transB: false, beta: 0 },
    { name: 'tiny_nt', M: 64, N: 64, K: 48, transA: false, transB: true, beta: 0 },
    { name: 'tiny_tn_beta1', M: 64, N: 48, K: 1024, transA: true, transB: false, beta: 1 },
  ];
}

/** What to time per shape: matmul()'s pick, the old default, every vec4 config, and K splits
 * where 128×128 tiles leave fewer than 2 × 132 workgroups. */
function methodsFor(ctx: GpuContext, c: MatmulCase): MatmulMethod[] {
  const methods: MatmulMethod[] = [{ kind: 'auto' }, { kind: 'scalar', cfg: defaultMatmulConfig(ctx) }];
  if (has('--few')) return methods;
  const fits = VEC4_CONFIGS.filter((cfg) => vec4ConfigProblem(ctx, cfg) === null);
  for (const cfg of fits) methods.push({ kind: 'vec4', cfg, splits: 1 });
  const tiles = Math.ceil(c.M / 128) * Math.ceil(c.N / 128);
  if (tiles < 264) {
    const splitCfgs = fits.filter((cfg) =>
      ['v128x128x16g8q', 'v128x64x16g8q', 'v64x64x16g8q'].includes(vec4ConfigName(cfg)),
    );
    for (const cfg of splitCfgs)
      for (const splits of [2, 3, 4, 6, 8, 12, 16])
        if (c.K / splits >= 256) methods.push({ kind: 'vec4', cfg, splits });
  }
  return methods;
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
  const timing: TimeOptions = has('--quick') ? { targetMs: 40, samples: 3 } : {};
  log('adapter', ctx.adapter?.vendor, ctx.adapter?.device || ctx.adapter?.architecture, 'timing:', timer.method);
  const out: Record<string, unknown> = {
    adapter: ctx.adapter,
    timing: timer.method,
    robustness: !has('--robustness-off'),
    defaultVec4Config: vec4ConfigName(defaultVec4Config(ctx)),
    oldDefaultConfig: MATMUL_CONFIGS.length ? defaultMatmulConfig(ctx) : null,
  };

  if (!has('--no-matmul')) {
    let cases: readonly MatmulCase[] = has('--tiny') ? tinyCases() : MATMUL_CASES;
    const only = value('--only')?.split(',');
    if (only) cases = cases.filter((c) => only.includes(c.name));
    const matmul: MatmulResult[] = [];
    for (const c of cases) {
      const rows = await withErrors(ctx, async () => ({
        rows: await benchMatmulShape(ctx, timer, c, methodsFor(ctx, c), timing),
        error: undefined as string | undefined,
      }));
      if (rows.error) rows.rows.forEach((r) => (r.error ??= rows.error));
      for (const r of rows.rows) {
        log(
          c.name,
          r.method,
          r.plan ?? '',
          r.tflops?.toFixed(2) ?? r.error,
          'TFLOP/s err',
          r.sampleRelErr?.toExponential(1),
        );
        matmul.push(r);
      }
    }
    out.matmul = matmul;
  }

  if (!has('--no-attention')) {
    const shape = has('--tiny') ? { B: 1, H: 2, T: 64, hd: 16 } : { B: 4, H: 12, T: 2048, hd: 64 };
    out.attention = await benchAttention(ctx, timer, shape, timing);
    for (const r of out.attention as Array<Record<string, unknown>>)
      log(r.pass, r.method, r.ms, 'ms', r.tflops, r.error ?? '');
  }

  if (!has('--no-fused') && !has('--tiny')) {
    out.fused = await benchFused(ctx, timer, timing);
    for (const r of out.fused as Array<Record<string, unknown>>)
      log(r.name, r.separateMs, '→', r.fusedMs, 'ms', r.error ?? '');
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
