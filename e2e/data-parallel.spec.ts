// Data parallelism equals one rank: DP=2 (each replica half of every global batch, gradients
// ring-all-reduced) against a single rank with twice the gradient accumulation, same seed and
// data, on WebGPU in headless Chromium (ranks talk over the loopback transport here; the
// WebRTC transport is tested in e2e/comm*.spec.ts).
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-files';
import type { TrainEvent } from '../src/train/events';
import { launchChromium } from './browser';
import { startVite } from './server';

let browser: Browser, vite: ViteDevServer, page: Page;
const STEPS = 10;

beforeAll(async () => {
  const v = await startVite();
  vite = v.server;
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
  await page.goto(`${v.url}/e2e/pages/gpu-worker.html`);
  await page.waitForFunction(() => 'gpuTests' in window);
});

afterAll(async () => {
  await browser?.close();
  await vite?.close();
});

const stepLosses = (events: TrainEvent[]) => events.filter((e) => e.kind === 'step').map((e) => (e as { loss: number }).loss);

describe('data parallel = single rank', () => {
  it('DP=2 losses equal the single-rank run with 2× accumulation at every step (1e-4 relative)', async () => {
    const base = { seq_length: 32, hidden_size: 32, num_layers: 2, train_micro_batch_size_per_gpu: 2, eval_interval: 0, eval_iters: 1, train_iters: STEPS };
    const single = loadConfig(['configs/tiny.yml'], { ...base, gradient_accumulation_steps: 2 }).config;
    const dist = loadConfig(['configs/tiny.yml'], { ...base, gradient_accumulation_steps: 1 }).config;
    const ref: TrainEvent[] = await page.evaluate(([c, n]) => (window as any).gpuTests.train(c, n), [single, STEPS] as const);
    const ranks: TrainEvent[][] = await page.evaluate(([c, n]) => (window as any).gpuTests.trainDataParallel(c, 2, n), [dist, STEPS] as const);
    const want = stepLosses(ref);
    expect(want).toHaveLength(STEPS);
    for (const events of ranks) {
      const got = stepLosses(events);
      expect(got).toHaveLength(STEPS);
      got.forEach((l, i) => expect(Math.abs(l - want[i]) / want[i], `step ${i + 1}: ${l} vs ${want[i]}`).toBeLessThanOrEqual(1e-4));
    }
    expect(want[STEPS - 1]).toBeLessThan(want[0]);
  });
});
