// Dev harness: N headless tabs, each training the tiny model in its WebGPU worker at once, to see
// whether one browser copes (e.g. 8 tabs on SwiftShader). ITERS=3 EXTRA="--flag" node --import tsx tools/dev/ntabs.ts 8
import { launchChromium } from '../../src/node/chromium';
import { startWebServer } from '../../src/node/web-server';
import { loadConfig } from '../../src/config/load-files';
const N = Number(process.argv[2] ?? 8);
const v = await startWebServer();
const browser = await launchChromium([
  '--enable-logging=stderr',
  '--v=0',
  ...(process.env.EXTRA ?? '').split(' ').filter(Boolean),
]);
const c = loadConfig(['configs/tiny.yml'], {
  seq_length: 32,
  hidden_size: 32,
  train_iters: Number(process.env.ITERS ?? 15),
  eval_iters: 1,
}).config;
const pages = await Promise.all(
  Array.from({ length: N }, async () => {
    const p = await browser.newPage();
    p.on('console', (m) => {
      if (m.type() === 'error') console.error('[page]', m.text().slice(0, 200));
    });
    await p.goto(`${v.url}/e2e/pages/gpu-worker.html`);
    await p.waitForFunction(() => 'gpuTests' in window);
    return p;
  }),
);
const t0 = Date.now();
const r = await Promise.allSettled(
  pages.map((p) =>
    p.evaluate(
      (cfg) => (window as any).gpuTests.train(cfg, 100).then((e: any[]) => e.filter((x) => x.kind === 'step').length),
      c,
    ),
  ),
);
console.log(
  N,
  'tabs',
  (Date.now() - t0) / 1000,
  's',
  r.map((x) => (x.status === 'fulfilled' ? x.value : String(x.reason).slice(0, 150))),
);
await browser.close();
await v.close();
process.exit(0);
