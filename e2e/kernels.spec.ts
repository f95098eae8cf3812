// Every kernel against its CPU reference in real headless Chromium (WebGPU in a Worker).
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../src/gpu/checks/harness';
import { allChecks } from '../src/gpu/checks';
import { launchChromium } from './browser';
import { startVite } from './server';

let browser: Browser, vite: ViteDevServer, page: Page;
let results: CheckResult[] = [];
let adapter: { vendor?: string; architecture?: string } = {};

beforeAll(async () => {
  const v = await startVite();
  vite = v.server;
  browser = await launchChromium();
  page = await browser.newPage();
  page.on('console', (m) => { if (m.type() === 'error') console.error('[page]', m.text()); });
  await page.goto(`${v.url}/e2e/pages/kernels.html`);
  await page.waitForFunction(() => 'kernelChecks' in window);
  const out = await page.evaluate(() => (window as unknown as { kernelChecks: () => Promise<{ adapter: unknown; results: CheckResult[] }> }).kernelChecks());
  results = out.results;
  adapter = out.adapter as typeof adapter;
});

afterAll(async () => {
  await browser?.close();
  await vite?.close();
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
