// Every kernel against its CPU reference in real headless Chromium (WebGPU in a Worker), one
// test per check (each on a fresh device), so that no single hook has to hold all of them.
// Tuning sweeps run each alternative config on one shape case here (SwiftShader's shader compiles
// dominate); `tools/dev/checks.ts` and `tools/gpu/browser-checks.ts` run every case of every config.
import { describe, expect, it } from 'vitest';
import type { CheckResult, Sweep } from '../src/gpu/checks/harness';
import { allChecks } from '../src/gpu/checks';
import { useGpuTestPage } from './gpu-page';

interface Run {
  adapter: { vendor?: string; architecture?: string };
  results: CheckResult[];
}

const gpu = useGpuTestPage('/e2e/pages/kernels.html', 'kernelChecks');

const runCheck = (name: string): Promise<Run> =>
  gpu.page.evaluate(
    (n) =>
      (window as unknown as { kernelChecks: (f: string, exact: boolean, sweep: Sweep) => Promise<Run> }).kernelChecks(
        n,
        true,
        'one-case',
      ),
    name,
  );

describe('kernels in headless Chromium', () => {
  for (const check of allChecks) {
    it(check.name, async () => {
      const { adapter, results } = await runCheck(check.name);
      expect(adapter.vendor ?? adapter.architecture, 'a WebGPU adapter').toBeTruthy();
      expect(results.length, `no results for ${check.name}`).toBeGreaterThan(0);
      for (const r of results) expect(r.relErr, `${r.name}: ${r.detail ?? ''}`).toBeLessThanOrEqual(r.tol);
    });
  }
});
