// Every parallel layout trains exactly like one rank: same seed, same data, the loss at each
// of 10 steps within 1e-4 relative of the single-rank run with the same global batch
// (single rank: micro batch × (gradient accumulation × DP)). WebGPU in headless Chromium;
// the ranks of a layout run in one worker over the loopback transport (the WebRTC transport
// is tested on its own in e2e/comm*.spec.ts).
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-files';
import type { TrainEvent } from '../src/train/events';
import { launchChromium } from './browser';
import { startVite } from './server';

let browser: Browser, vite: ViteDevServer, page: Page;
const STEPS = 10;
const tiny = { seq_length: 32, hidden_size: 32, num_layers: 2, train_micro_batch_size_per_gpu: 2, eval_interval: 5, eval_iters: 2, train_iters: STEPS, lr_decay_iters: STEPS, warmup: 0.2 };

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

const of = <K extends TrainEvent['kind']>(events: TrainEvent[], kind: K) => events.filter((e): e is Extract<TrainEvent, { kind: K }> => e.kind === kind);
const refCache = new Map<number, TrainEvent[]>();

async function reference(accum: number, extra: Record<string, unknown>): Promise<TrainEvent[]> {
  const key = accum * 1000 + Object.keys(extra).length;
  if (!refCache.has(key)) {
    const c = loadConfig(['configs/tiny.yml'], { ...tiny, ...extra, gradient_accumulation_steps: accum }).config;
    refCache.set(key, await page.evaluate(([cfg, n]) => (window as any).gpuTests.train(cfg, n), [c, STEPS] as const));
  }
  return refCache.get(key)!;
}

describe.each([
  { name: 'DP2', world: 2, pipe: 0, accum: 1, dp: 2, extra: {} },
  { name: 'PP2 (tied embeddings, accumulation 2)', world: 2, pipe: 2, accum: 2, dp: 1, extra: {} },
  { name: 'PP2×DP2', world: 4, pipe: 2, accum: 2, dp: 2, extra: {} },
  { name: 'PP2 untied, learned positions', world: 2, pipe: 2, accum: 2, dp: 1, extra: { no_weight_tying: true, pos_emb: 'learned' } },
])('$name = single rank', ({ world, pipe, accum, dp, extra }) => {
  it(`loss at each of ${STEPS} steps within 1e-4 relative, on every rank`, async () => {
    const want = of(await reference(accum * dp, extra), 'step').map((e) => e.loss);
    const cfg = loadConfig(['configs/tiny.yml'], { ...tiny, ...extra, pipe_parallel_size: pipe, gradient_accumulation_steps: accum }).config;
    const ranks: TrainEvent[][] = await page.evaluate(([c, w, n]) => (window as any).gpuTests.trainLayout(c, w, n), [cfg, world, STEPS] as const);
    expect(ranks).toHaveLength(world);
    expect(want).toHaveLength(STEPS);
    for (const events of ranks) {
      const got = of(events, 'step').map((e) => e.loss);
      expect(got).toHaveLength(STEPS);
      got.forEach((l, i) => expect(Math.abs(l - want[i]) / want[i], `step ${i + 1}: ${l} vs ${want[i]}`).toBeLessThanOrEqual(1e-4));
      const evals = of(events, 'eval');
      expect(evals.length).toBeGreaterThanOrEqual(2);
    }
    expect(want[STEPS - 1]).toBeLessThan(want[0]);
  });
});
