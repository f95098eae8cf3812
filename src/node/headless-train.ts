// Runs single-rank training in a headless Chromium tab (WebGPU in the tab's worker) and
// streams its TrainEvents back to Node.
import type { Browser } from 'playwright-core';
import type { TrainEvent } from '../train/events';
import type { TrainConfig } from '../train/setup';
import { launchChromium } from './chromium';
import { startWebServer, type WebServer } from './web-server';

/** What the contributor page puts on window for a standalone run (src/tab/main.ts). */
interface TabApi {
  tabtron: {
    ready: boolean;
    train(config: TrainConfig, text: string | null, steps?: number): Promise<{ trainLoss: number; validLoss: number }>;
  };
}

export interface HeadlessTrainOptions {
  config: TrainConfig;
  corpusText: string | null;
  maxSteps?: number;
  onEvent: (e: TrainEvent) => void;
  onPageError?: (message: string) => void;
}

export async function trainInHeadlessTab(o: HeadlessTrainOptions): Promise<{ trainLoss: number; validLoss: number }> {
  let web: WebServer | null = null;
  let browser: Browser | null = null;
  try {
    web = await startWebServer();
    browser = await launchChromium();
    const page = await browser.newPage();
    page.on('pageerror', (e) => o.onPageError?.(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') o.onPageError?.(m.text());
    });
    await page.exposeFunction('tabtronReport', (e: TrainEvent) => o.onEvent(e));
    await page.goto(`${web.url}/index.html`);
    await page.waitForFunction(() => 'tabtron' in window, undefined, { timeout: 60_000 });
    const ok = await page.evaluate(() => (window as unknown as TabApi).tabtron.ready);
    if (!ok) {
      const why = await page.textContent('#gpu-status');
      throw new Error(`the tab cannot train: ${why}`);
    }
    return await page.evaluate(
      ([config, text, steps]) => (window as unknown as TabApi).tabtron.train(config, text, steps ?? undefined),
      [o.config, o.corpusText, o.maxSteps ?? null] as const,
    );
  } finally {
    await browser?.close().catch(() => {});
    await web?.close().catch(() => {});
  }
}
