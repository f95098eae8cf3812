// N headless Chromium tabs, one rank each, connected over WebRTC through a PeerJS server
// started in this process. Shared by e2e/comm.spec.ts and bench/comm.ts.
import type { Browser, Page } from 'playwright-core';
import { startPeerServer, type RunningPeerServer } from '../coordinator/peer-server';
import type { CommPageApi } from './pages/comm';
import { launchChromium } from './browser';
import { startWebServer } from './server';

export interface CommEnv {
  browser: Browser;
  url: string;
  signalling: RunningPeerServer;
  close(): Promise<void>;
}

export async function startCommEnv(): Promise<CommEnv> {
  const [v, signalling, browser] = await Promise.all([
    startWebServer({ testPages: true }),
    startPeerServer({ port: 0 }),
    launchChromium(),
  ]);
  return {
    browser,
    url: v.url,
    signalling,
    async close() {
      await browser.close();
      await Promise.all([v.close(), signalling.close()]);
    },
  };
}

type Api = CommPageApi;
/** Calls window.comm[name](...args) in a tab. */
export function call<K extends keyof Api>(
  page: Page,
  name: K,
  ...args: Parameters<Api[K]>
): Promise<Awaited<ReturnType<Api[K]>>> {
  return page.evaluate(
    ([n, a]) => {
      const comm = (window as unknown as { comm: Record<string, (...x: unknown[]) => unknown> }).comm;
      return comm[n as string](...(a as unknown[]));
    },
    [name, args] as const,
  ) as Promise<Awaited<ReturnType<Api[K]>>>;
}

export interface TabOptions {
  channels?: number;
  chunkBytes?: number;
  runId?: string;
}

let runCounter = 0;

/** Opens `n` tabs and connects them as ranks 0…n-1 of one world. */
export async function openRanks(env: CommEnv, n: number, opts: TabOptions = {}): Promise<Page[]> {
  const runId = opts.runId ?? `run${process.pid}x${runCounter++}`;
  const pages: Page[] = [];
  for (let r = 0; r < n; r++) {
    const page = await env.browser.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.error(`[tab ${r}]`, m.text());
    });
    page.on('pageerror', (e) => console.error(`[tab ${r}] page error:`, e.message));
    await page.goto(`${env.url}/e2e/pages/comm.html`);
    await page.waitForFunction(() => 'comm' in window);
    pages.push(page);
  }
  const server = {
    host: env.signalling.host,
    port: env.signalling.port,
    path: env.signalling.path,
    key: env.signalling.key,
  };
  await Promise.all(
    pages.map((p, rank) =>
      call(p, 'connect', {
        rank,
        worldSize: n,
        runId,
        server,
        channels: opts.channels,
        chunkBytes: opts.chunkBytes,
        connectTimeoutMs: 60_000,
      }),
    ),
  );
  return pages;
}

export async function closeRanks(pages: Page[]): Promise<void> {
  await Promise.all(pages.map((p) => p.close().catch(() => {})));
}
