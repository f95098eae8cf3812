// The whole GPT against PyTorch golden data (tools/reference/gpt_reference.py), on WebGPU in a
// Worker in headless Chromium: initial loss 1e-5, every gradient 1e-4, 10-step losses 1e-4.
import { beforeAll, describe, expect, it } from 'vitest';
import type { ParityReport } from '../src/train/parity';
import { useGpuTestPage } from './gpu-page';

const gpu = useGpuTestPage();

describe.each(['layernorm-learned', 'rmsnorm-rotary'])('PyTorch parity: %s', (variant) => {
  let report: ParityReport;
  beforeAll(async () => {
    report = await gpu.page.evaluate((name) => (window as any).gpuTests.parity(name), variant);
    console.log(
      JSON.stringify({
        variant,
        initialLossRel: report.initialLoss.rel,
        worstGradRel: Math.max(...report.grads.map((g) => g.rel)),
        worstLossRel: Math.max(...report.losses.map((l) => l.rel)),
      }),
    );
  });
  it('initial loss within 1e-5 relative', () => {
    expect(report.initialLoss.rel).toBeLessThanOrEqual(1e-5);
  });
  it('every parameter gradient within 1e-4 (max abs diff / max abs)', () => {
    expect(report.grads.length).toBeGreaterThan(10);
    for (const g of report.grads) expect(g.rel, g.name).toBeLessThanOrEqual(1e-4);
  });
  it('10 AdamW steps: every loss within 1e-4 relative', () => {
    expect(report.losses).toHaveLength(10);
    for (const l of report.losses) expect(l.rel, `step ${l.step}: ${l.ours} vs ${l.torch}`).toBeLessThanOrEqual(1e-4);
    expect(report.losses[9].ours).toBeLessThan(report.losses[0].ours * 0.5);
  });
});
