// Headless N-tab runs: start a coordinator (or use one by URL), create a run from NeoX
// YAML, open N headless Chromium tabs on its contributor URL, follow progress through the
// admin API until the run stops, and return the final losses. For `tabtron train --tabs N`.
// An in-process coordinator without a given data directory keeps its data in a temporary one,
// removed when the run ends: returned, failed, or interrupted (SIGINT / SIGTERM).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../src/node/chromium';
import { MetricSeries } from '../src/admin/series';
import type { CreateRunResponse, MetricsResponse, RunDetail, RunSummary } from './api-schemas';
import { newSecret } from './ids';
import { startCoordinator, type Coordinator } from './server';
import type { ConfigSource } from './store';
import type { WebMode } from './web';
import { createLogger } from './telemetry';
import { TabWatch } from './tab-watch';

/** One completed step's numbers as the ranks reported them (each the mean over the ranks; every rank
 *  reports tokens/s as the whole step's tokens over its own step time). */
export interface StepReport {
  step: number;
  loss: number;
  lr: number | null;
  tokensPerSec: number | null;
}

export interface HeadlessUpdate {
  run: RunSummary;
  trainLoss: number | null;
  valLoss: number | null;
  tokensPerSec: number | null;
  /** steps complete since the previous update, in order: a step is complete once a later step
   *  has reported a loss, or the run has stopped (ranks report a step at different moments) */
  steps: StepReport[];
}

export interface HeadlessResult extends HeadlessUpdate {
  runId: string;
}

export interface HeadlessRunOptions {
  sources: ConfigSource[];
  tabs: number;
  dp?: number;
  /** An already running coordinator (needs adminToken); else one is started in-process. */
  coordinatorUrl?: string;
  adminToken?: string;
  /** the in-process coordinator's data directory (kept); default: a temporary one, removed at the end */
  dataDir?: string;
  /** where that temporary directory is made (default: the OS temp dir) */
  tempRoot?: string;
  /** how the in-process coordinator serves the web app (default 'build': built at start, or TABTRON_WEB_DIST's) */
  web?: WebMode;
  /** Page the tabs open, given ?run=&token= (default '/', the contributor page). */
  pagePath?: string;
  timeoutMs?: number;
  /** fail when the run's step and state have not changed for this long (ms; default: never) */
  stallMs?: number;
  /** how long the coordinator may be unreachable (restarting) before the run counts as failed (ms) */
  coordinatorAwayMs?: number;
  pollMs?: number;
  onUpdate?: (u: HeadlessUpdate) => void;
  /** the tabs as opened; `open` adds one more (a new volunteer, in a browser of its own) */
  onTabs?: (pages: Page[], run: { id: string; url: string; open: () => Promise<Page> }) => void | Promise<void>;
  onPageError?: (tab: number, message: string) => void;
}

async function call<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
  });
  const data = (await res.json().catch(() => null)) as { error?: { message: string } } | null;
  if (!res.ok) throw new Error(`coordinator ${method} ${path}: ${data?.error?.message ?? `HTTP ${res.status}`}`);
  return data as T;
}

export async function runHeadless(o: HeadlessRunOptions): Promise<HeadlessResult> {
  if (!Number.isInteger(o.tabs) || o.tabs < 1) throw new Error(`--tabs must be a positive integer, got ${o.tabs}`);
  if (o.coordinatorUrl && !o.adminToken)
    throw new Error('--coordinator needs the admin token (--admin-token or TABTRON_ADMIN_TOKEN)');
  let local: Coordinator | null = null;
  const browsers: Browser[] = [];
  const tabs = new TabWatch();
  let tempDir: string | null = null;
  const removeTempDir = () => {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    tempDir = null;
  };
  const shutDown = async () => {
    tabs.shuttingDown();
    try {
      await Promise.all(browsers.splice(0).map((b) => b.close().catch(() => {})));
      await local?.close();
      local = null;
    } finally {
      removeTempDir();
    }
  };
  // Interrupted: close, remove, and exit as the signal would have. Another handler may exit first
  // (Playwright's, once its browsers are closed): the exit handler still removes the directory.
  const onSignal = (signal: NodeJS.Signals) => {
    void shutDown()
      .catch(() => {})
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal).once('exit', removeTempDir);
  try {
    const token = o.adminToken ?? newSecret(18);
    if (!o.coordinatorUrl) {
      if (!o.dataDir) tempDir = mkdtempSync(join(o.tempRoot ?? tmpdir(), 'tabtron-headless-'));
      local = await startCoordinator({
        port: 0,
        dataDir: o.dataDir ?? tempDir!,
        adminToken: token,
        web: o.web ?? 'build',
        webWatch: false,
        logger: createLogger('warn'),
      });
    }
    const base = (o.coordinatorUrl ?? local!.url).replace(/\/$/, '');
    const created = await call<CreateRunResponse>(base, token, 'POST', '/api/runs', {
      configs: o.sources,
      ...(o.dp ? { dp: o.dp } : {}),
    });
    const runId = created.run.id;
    if (o.tabs < created.run.sizes.world) {
      throw new Error(
        `--tabs ${o.tabs} is fewer than the run's ${created.run.sizes.world} ranks (PP ${created.run.sizes.pp} × TP ${created.run.sizes.tp} × DP ${created.run.sizes.dp})`,
      );
    }

    const pages: Page[] = [];
    const url = `${base}${o.pagePath ?? '/'}?run=${runId}&token=${encodeURIComponent(created.joinToken)}`;
    // each tab in a browser of its own, as each volunteer has their own: separate sessionStorage
    // and IndexedDB (a tab's snapshots are its own), and one WebGPU device per browser, since 8
    // devices training in one SwiftShader crash the whole browser on a 2-core machine
    const launch = async () => {
      const browser = await launchChromium();
      browsers.push(browser);
      return browser;
    };
    const open = async (launched?: Promise<Browser>): Promise<Page> => {
      const i = pages.length;
      const browser = await (launched ?? launch());
      const page = await browser.newPage();
      tabs.watch(i, browser, page, o.onPageError);
      pages.push(page);
      // the page goes on loading its modules by itself; on a busy machine Vite's first transforms
      // can take longer than Playwright's default navigation timeout
      await page.goto(url, { waitUntil: 'commit', timeout: 120_000 });
      return page;
    };
    // the browsers start side by side (each launch is mostly waiting on its process); the tabs open in order
    const launches = Array.from({ length: o.tabs }, launch);
    // a launch that fails while an earlier tab opens is reported when its turn comes, not as unhandled
    for (const l of launches) l.catch(() => {});
    for (const launched of launches) await open(launched);
    await o.onTabs?.(pages, { id: runId, url, open: () => open() });

    const series = new MetricSeries();
    let after = 0;
    let reportedThrough = 0;
    const deadline = Date.now() + (o.timeoutMs ?? 24 * 3600_000);
    let last = { key: '', at: Date.now() };
    let unreachableSince: number | null = null;
    for (;;) {
      let detail: RunDetail, metrics: MetricsResponse;
      try {
        [detail, metrics] = await Promise.all([
          call<RunDetail>(base, token, 'GET', `/api/runs/${runId}`),
          call<MetricsResponse>(base, token, 'GET', `/api/runs/${runId}/metrics?after=${after}`),
        ]);
        unreachableSince = null;
      } catch (e) {
        // a coordinator that restarts is away for a while; the tabs train on meanwhile
        if (!isUnreachable(e)) throw e;
        unreachableSince ??= Date.now();
        const limit = o.coordinatorAwayMs ?? 120_000;
        if (Date.now() - unreachableSince > limit)
          throw new Error(`the coordinator at ${base} has been unreachable for ${Math.round(limit / 1000)} s`);
        await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
        continue;
      }
      series.add(metrics.points);
      after = metrics.last;
      const lossSteps = series.steps(['loss']);
      const completeThrough = detail.run.state === 'stopped' ? Infinity : (lossSteps.at(-1) ?? 0) - 1;
      const fresh = lossSteps.filter((s) => s > reportedThrough && s <= completeThrough);
      if (fresh.length) reportedThrough = fresh[fresh.length - 1];
      const [losses, lrs, rates] = [
        series.values('loss', fresh, 'mean'),
        series.values('lr', fresh, 'mean'),
        series.values('tokens_per_sec', fresh, 'mean'),
      ];
      const update: HeadlessUpdate = {
        run: detail.run,
        trainLoss: series.latest('loss', 'mean')?.value ?? null,
        valLoss: series.latest('val_loss', 'mean')?.value ?? null,
        tokensPerSec: series.latest('tokens_per_sec', 'mean')?.value ?? null,
        steps: fresh.map((step, i) => ({ step, loss: losses[i]!, lr: lrs[i], tokensPerSec: rates[i] })),
      };
      o.onUpdate?.(update);
      if (detail.run.state === 'stopped') return { runId, ...update };
      if (Date.now() > deadline)
        throw new Error(
          `run ${runId} did not finish within ${o.timeoutMs} ms (state ${detail.run.state}: ${detail.run.stateReason})` +
            tabs.summary(),
        );
      const key = `${detail.run.state} ${detail.run.step} ${detail.run.stateReason}`;
      if (key !== last.key) last = { key, at: Date.now() };
      else if (o.stallMs !== undefined && Date.now() - last.at > o.stallMs) {
        throw new Error(
          `run ${runId} made no progress for ${Math.round(o.stallMs / 1000)} s (state ${detail.run.state}${detail.run.stateReason ? `: ${detail.run.stateReason}` : ''}, step ${detail.run.step})` +
            tabs.summary(),
        );
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? 500));
    }
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal).off('exit', removeTempDir);
    await shutDown();
  }
}

/** fetch's failure to connect (the coordinator is not listening), as opposed to an HTTP error. */
function isUnreachable(e: unknown): boolean {
  const err = e as { name?: string; message?: string; cause?: { code?: string } };
  return err?.name === 'TypeError' && /fetch failed/.test(err.message ?? '');
}
