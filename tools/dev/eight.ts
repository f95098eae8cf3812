// Dev harness: the README's 8-tab run with every tab's console on stderr.
import { runHeadless } from '../../coordinator/headless';
import { readFileSync } from 'node:fs';
const files = process.argv.slice(2);
const t0 = Date.now();
let last = '';
const ts = () => ((Date.now() - t0) / 1000).toFixed(1);
const r = await runHeadless({
  sources: files.map((f) => ({ file: f, text: readFileSync(f, 'utf8') })),
  tabs: Number(process.env.TABS ?? 8),
  stallMs: 200_000,
  web: (process.env.WEB ?? 'vite') as 'vite' | 'dist',
  onTabs: (pages) => {
    pages.forEach((p, i) => {
      p.on('console', (m) => console.error(ts(), `[tab ${i}]`, m.type(), m.text().slice(0, 300)));
      p.on('crash', () => console.error(ts(), `[tab ${i}] CRASH`));
      p.on('close', () => console.error(ts(), `[tab ${i}] CLOSE`));
    });
  },
  onPageError: (i, m) => console.error(ts(), `[tab ${i}] pageerror`, m),
  onUpdate: (u) => {
    if (u.run.state !== last) console.error(ts(), 'state', (last = u.run.state));
    if (u.steps.length) console.error(ts(), 'steps', u.steps.map((s) => s.step).join(','), u.run.state);
  },
});
console.log(ts(), r.run.state, r.trainLoss);
process.exit(0);
