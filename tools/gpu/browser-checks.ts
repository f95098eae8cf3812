// Runs the matmul check (tools/gpu/check-page.ts) in headless Chromium and prints each result
// (faster than the whole e2e spec while iterating on one kernel):
//   npx tsx tools/gpu/browser-checks.ts matmul
import type { CheckResult } from '../../src/gpu/checks/harness';
import { launchChromium } from '../../e2e/browser';
import { startViteDevServer } from './vite-dev-server';

const filter = process.argv[2];
const { server, url } = await startViteDevServer();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') console.error('[page]', m.text());
  });
  const t0 = Date.now();
  let out: { adapter: unknown; results: CheckResult[] } | undefined;
  // Vite may reload the page once while it optimizes dependencies, or when files change
  for (let attempt = 0; !out; attempt++) {
    await page.goto(`${url}/tools/gpu/check-page.html`);
    await page.waitForFunction(() => 'kernelChecks' in window);
    try {
      out = await page.evaluate(
        (f) =>
          (
            window as unknown as { kernelChecks: (f?: string) => Promise<{ adapter: unknown; results: CheckResult[] }> }
          ).kernelChecks(f),
        filter,
      );
    } catch (e) {
      if (attempt >= 2 || !String(e).includes('context was destroyed')) throw e;
    }
  }
  let bad = 0;
  for (const r of out.results) {
    const ok = r.relErr <= r.tol;
    if (!ok) bad++;
    console.log(
      `${ok ? 'ok  ' : 'FAIL'} ${r.name}  relErr=${r.relErr.toExponential(2)} tol=${r.tol}${ok ? '' : `  ${r.detail ?? ''}`}`,
    );
  }
  console.log(`${out.results.length} results, ${bad} failed, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  process.exitCode = bad ? 1 : 0;
} finally {
  await browser.close();
  await server.close();
}
