// npx tsx tools/gpu/bench-smoke.ts — runs tools/gpu/bench-page.ts in headless Chromium.
import { launchChromium } from '../../e2e/browser';
import { startViteDevServer } from './vite-dev-server';

const { server, url } = await startViteDevServer();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error('[page]', m.text()));
  await page.goto(`${url}/tools/gpu/bench-page.html`);
  await page.waitForFunction(() => 'benchSmoke' in window);
  const out = await page.evaluate(() => (window as unknown as { benchSmoke: () => Promise<unknown> }).benchSmoke());
  console.log(JSON.stringify(out, null, 1));
} finally {
  await browser.close();
  await server.close();
}
