// A headless Chromium page on the test harness (e2e/pages/gpu-worker.html): WebGPU in a
// dedicated Worker exposed as window.gpuTests, served the way the CLI serves the app.
// Register it once per spec file: `const gpu = useGpuTestPage();` then `gpu.page` in tests.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { launchChromium } from './browser';
import { startWebServer, type WebServer } from './server';

export function useGpuTestPage(path = '/e2e/pages/gpu-worker.html', ready = 'gpuTests'): { readonly page: Page } {
  let browser: Browser | undefined, web: WebServer | undefined, page: Page | undefined;
  beforeAll(async () => {
    const v = await startWebServer({ testPages: true });
    web = v;
    browser = await launchChromium();
    page = await browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') console.error('[page]', m.text());
    });
    await page.goto(`${v.url}${path}`);
    await page.waitForFunction((name) => name in window, ready);
  });
  afterAll(async () => {
    await browser?.close();
    await web?.close();
  });
  return {
    get page() {
      if (!page) throw new Error('the GPU test page is not open (beforeAll failed?)');
      return page;
    },
  };
}
