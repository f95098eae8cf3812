// Every kernel against its CPU reference in real headless Chromium (WebGPU in a Worker).
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../src/gpu/checks/harness';
import { allChecks } from '../src/gpu/checks';
import { useGpuTestPage } from './gpu-page';

const gpu = useGpuTestPage('/e2e/pages/kernels.html', 'kernelChecks');
let results: CheckResult[] = [];
let adapter: { vendor?: string; architecture?: string } = {};

beforeAll(async () => {
  const out = await gpu.page.evaluate(() =>
    (window as unknown as { kernelChecks: () => Promise<{ adapter: unknown; results: CheckResult[] }> }).kernelChecks(),
  );
  results = out.results;
  adapter = out.adapter as typeof adapter;
});

describe('kernels in headless Chromium', () => {
  it('runs on a WebGPU adapter', () => {
    expect(adapter.vendor ?? adapter.architecture).toBeTruthy();
  });
  for (const check of allChecks) {
    it(check.name, () => {
      const mine = results.filter((r) => r.name.startsWith(check.name));
      expect(mine.length, `no results for ${check.name}`).toBeGreaterThan(0);
      for (const r of mine) expect(r.relErr, `${r.name}: ${r.detail ?? ''}`).toBeLessThanOrEqual(r.tol);
    });
  }
});
