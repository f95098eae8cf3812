// Smoke test of the benchmark code path (timing, fills, spot checks) on one-tile shapes in
// Chromium, where Dawn-in-Node cannot run here; driven by tools/gpu/bench-smoke.ts.
import { benchMatmulShape, type MatmulCase } from '../../bench/matmul-bench';
import { benchMemoryCase } from '../../bench/memory-bench';
import { geluCases } from '../../bench/memory/gelu';
import { Timer } from '../../bench/timing';
import { createBrowserContext } from '../../src/gpu/device-browser';
import { defaultMatmulConfig, MATMUL_CONFIGS } from '../../src/gpu/kernels/matmul';

const CASES: MatmulCase[] = [
  { name: 'tiny_nn', M: 64, N: 64, K: 48, transA: false, transB: false, beta: 0 },
  { name: 'tiny_nt', M: 70, N: 64, K: 48, transA: false, transB: true, beta: 0 },
  { name: 'tiny_tn_beta1', M: 60, N: 50, K: 33, transA: true, transB: false, beta: 1 },
];

(window as unknown as Record<string, unknown>).benchSmoke = async () => {
  const ctx = await createBrowserContext();
  const timer = new Timer(ctx);
  const out: unknown[] = [];
  const methods = [defaultMatmulConfig(ctx), MATMUL_CONFIGS[1]].map((cfg) => ({ kind: 'scalar' as const, cfg }));
  for (const c of CASES) out.push(...(await benchMatmulShape(ctx, timer, c, [{ kind: 'auto' }, ...methods])));
  out.push(await benchMemoryCase(ctx, timer, geluCases[0]));
  ctx.device.destroy();
  return out;
};
