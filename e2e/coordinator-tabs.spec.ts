// Real headless Chromium tabs against a real coordinator process (Vite in middleware
// mode serves the pages): 4 tabs get distinct ranks matching the plan's groups, a 5th
// waits as standby; the admin page shows all of them, its charts, links and timeline;
// pause/resume reach the tabs; a closed tab's rank is reassigned to the standby. The tabs open
// a test page that joins and reports ready but never trains (the test sends their telemetry),
// so these tests check assignment and control messages, not training.

import { mkdirSync, statSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  api,
  createRun,
  startCoordinatorProcess,
  removeTempDirs,
  tempDir,
  type CoordinatorProcess,
} from '../coordinator/test-helpers';
import type { Assignment, TabMessage } from '../src/protocol';
import { launchChromium } from './browser';

const ARTIFACTS = new URL('../test-results/', import.meta.url).pathname;
let coord: CoordinatorProcess, browser: Browser;

beforeAll(async () => {
  coord = await startCoordinatorProcess(tempDir(), ['--web', 'vite', '--rank-grace-ms', '1500']);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await coord?.kill('SIGTERM');
  removeTempDirs();
});

type JoinState = { state: string | undefined; assignment: Assignment | null; controls: string[] };
const joinState = (p: Page) =>
  p.evaluate(
    (): JoinState => ({
      state: window.tabtronJoin?.panel?.state,
      assignment: window.tabtronJoin?.assignment ?? null,
      controls: window.tabtronJoin?.controls ?? [],
    }),
  );
const waitState = (p: Page, states: string[], timeout = 60_000) =>
  p.waitForFunction((s) => s.includes(window.tabtronJoin?.panel?.state ?? ''), states, { timeout });
const sendFrom = (p: Page, msg: TabMessage) => p.evaluate((m) => window.tabtronJoin.connection!.send(m), msg);

describe('coordinator with browser tabs', () => {
  it("4 tabs hold a 2×2 plan's ranks, a standby gets a closed tab's rank, and the admin page shows them", async () => {
    const { run, joinToken } = await createRun(coord.url);
    const plan = (await api(coord.url, 'GET', `/api/runs/${run.id}`)).body.plan;
    const pages: Page[] = [];
    for (let i = 0; i < 5; i++) {
      const page = await browser.newPage();
      page.on('pageerror', (e) => console.error(`[tab ${i}]`, e.message));
      await page.goto(`${coord.url}/e2e/pages/join.html?run=${run.id}&token=${encodeURIComponent(joinToken)}`);
      await waitState(page, ['assigned', 'training', 'standby']); // join in a known order
      pages.push(page);
    }
    for (const p of pages.slice(0, 4)) await waitState(p, ['training']); // all ready → start
    const states = await Promise.all(pages.map(joinState));
    expect(states[4].state).toBe('standby');
    expect(states[4].assignment).toBeNull();
    expect(await pages[4].textContent('.join-status')).toMatch(/standby #1/);

    const ranks = states.slice(0, 4).map((s) => s.assignment!.rank);
    expect([...ranks].sort()).toEqual([0, 1, 2, 3]);
    for (const { assignment: a } of states.slice(0, 4)) {
      expect(a!.groups.tp).toEqual(plan.groups.tp.find((g: number[]) => g.includes(a!.rank)));
      expect(a!.groups.pp).toEqual(plan.groups.pp.find((g: number[]) => g.includes(a!.rank)));
      expect(a!.groups.dp).toEqual(plan.groups.dp.find((g: number[]) => g.includes(a!.rank)));
      expect([a!.layers.start, a!.layers.end]).toEqual(plan.stages[a!.coords.pp].layers);
    }
    const pageOfRank = (r: number) => pages[ranks.indexOf(r)];
    expect(await pageOfRank(2).getAttribute('.join-rank', 'data-rank')).toBe('2');
    expect(await pageOfRank(2).textContent('.join-rank')).toMatch(/layers 1–1 of pipeline stage 1/);
    expect(await pageOfRank(0).textContent('.join-device')).toMatch(/adapter/);

    // Telemetry from the tabs, as a training rank will send it.
    for (let step = 1; step <= 4; step++) {
      for (const r of [2, 3])
        await sendFrom(pageOfRank(r), {
          type: 'progress',
          step,
          loss: 5.6 - 0.2 * step + 0.01 * r,
          tokensPerSec: 400 + 10 * step,
          ...(step % 2 === 0 ? { valLoss: 5.5 - 0.2 * step } : {}),
        });
    }
    for (const r of [0, 1, 2, 3]) {
      const stage = r < 2 ? 0 : 1;
      await sendFrom(pageOfRank(r), {
        type: 'spans',
        step: 4,
        spans: [0, 1].flatMap((mb) => [
          {
            kind: 'forward' as const,
            microbatch: mb,
            startMs: 1000 + stage * 3 + mb * 3,
            endMs: 1002 + stage * 3 + mb * 3,
          },
          {
            kind: 'backward' as const,
            microbatch: mb,
            startMs: 1012 - stage * 4 + mb * 5,
            endMs: 1016 - stage * 4 + mb * 5,
          },
        ]),
      });
      await sendFrom(pageOfRank(r), {
        type: 'links',
        links: [{ peerRank: r ^ 1, bytes: 12_600_000 * (r + 1), ms: 1000 }],
      });
      for (const step of [2, 4])
        await sendFrom(pageOfRank(r), {
          type: 'round',
          step,
          fragment: 0,
          fragments: 1,
          bytes: 1000 * (r + 1),
          deltaNorm: 3 * step,
          updateNorm: 4 * step,
          ms: 50 + r,
        });
    }

    const admin = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    admin.on('pageerror', (e) => console.error('[admin]', e.message));
    await admin.goto(`${coord.url}/admin.html?run=${run.id}#token=${ADMIN}`);
    await admin.waitForFunction(() => document.querySelectorAll('td.rank[data-state="training"]').length === 4, null, {
      timeout: 60_000,
    });
    await admin.waitForFunction(
      () =>
        document.querySelectorAll('.timeline .span').length === 16 &&
        document.querySelectorAll('table.links tr[data-link]').length === 4,
      null,
      { timeout: 20_000 },
    );
    await admin.waitForFunction(
      () =>
        ['#loss-chart', '#tput-chart'].every(
          (id) => Number(document.querySelector<HTMLElement>(`${id} .uplot`)?.dataset.points) >= 4,
        ) &&
        Number(document.querySelector<HTMLElement>('#traffic-chart .uplot')?.dataset.points) >= 1 &&
        document.querySelectorAll('table.rounds tr[data-round]').length === 2,
      null,
      { timeout: 20_000 },
    );

    // The page's grid names the same holders as the API, rank by rank.
    const grid = await admin.$$eval('td.rank', (tds) =>
      tds.map((td) => ({
        rank: Number(td.getAttribute('data-rank')),
        state: td.getAttribute('data-state'),
        participant: td.getAttribute('data-participant'),
      })),
    );
    const detail = (await api(coord.url, 'GET', `/api/runs/${run.id}`)).body;
    expect(grid.sort((a, b) => a.rank - b.rank)).toEqual(
      detail.grid.map((g: { rank: number; participant: { id: string } }) => ({
        rank: g.rank,
        state: 'training',
        participant: g.participant.id,
      })),
    );
    expect(await admin.$$eval('.standbys li', (li) => li.length)).toBe(1);
    expect(await admin.textContent('#run-state')).toMatch(
      /^running .*4\/4 ranks held \(PP 2 × TP 2 × DP 1\), 4 ready, 1 standby/,
    );
    expect(await admin.$$eval('.uplot', (u) => u.length)).toBe(3);
    expect(await admin.$$eval('.lane[data-stage="1"] .span.backward', (s) => s.length)).toBe(4);
    expect(await admin.textContent('table.links tr[data-link="3>2"]')).toMatch(/50\.40 MB\/s.*50\.40 MB/);
    // rounds: 4 ranks (dp 1) each report their part; ‖whole‖ = sqrt(4 · (3·step)²) = 6·step
    const rounds = await admin.$$eval('table.rounds tr[data-round]', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)),
    );
    expect(rounds).toEqual([
      ['4', '10.0 kB', '24.00', '32.00', '53 ms'],
      ['2', '10.0 kB', '12.00', '16.00', '53 ms'],
    ]);
    expect(JSON.parse((await admin.textContent('#plan'))!).groups).toEqual(plan.groups);
    mkdirSync(ARTIFACTS, { recursive: true });
    await admin.screenshot({ path: `${ARTIFACTS}admin-4-tabs.png`, fullPage: true });
    expect(statSync(`${ARTIFACTS}admin-4-tabs.png`).size).toBeGreaterThan(10_000);

    // Admin buttons reach the tabs.
    await admin.click('#pause');
    for (const p of pages.slice(0, 4)) await waitState(p, ['paused'], 10_000);
    await admin.click('#resume');
    for (const p of pages.slice(0, 4)) await waitState(p, ['training'], 10_000);

    // A rank's tab closes: after the grace period the coordinator assigns that rank to the standby
    // and tells it to start (its panel then reads "training"). This page does not train, so
    // whether the run's training goes on with the new holder is not tested here.
    const lostRank = ranks[1];
    const lostId = grid.find((g) => g.rank === lostRank)!.participant;
    await pages[1].close();
    await waitState(pages[4], ['training'], 30_000);
    const promoted = await joinState(pages[4]);
    expect(promoted.assignment!.rank).toBe(lostRank);
    expect(promoted.controls).toContain('start');
    await admin.waitForFunction(
      ([r, id]) => {
        const td = document.querySelector(`td.rank[data-rank="${r}"]`);
        return td?.getAttribute('data-state') === 'training' && td.getAttribute('data-participant') !== id;
      },
      [lostRank, lostId] as const,
      { timeout: 10_000 },
    );
    expect(await admin.$$eval('.standbys li', (li) => li.length)).toBe(0);
  });

  it('a browser without WebGPU is told why and does not join', async () => {
    const { run, joinToken } = await createRun(coord.url);
    const page = await browser.newPage();
    await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await page.goto(`${coord.url}/e2e/pages/join.html?run=${run.id}&token=${encodeURIComponent(joinToken)}`);
    await waitState(page, ['unsupported'], 30_000);
    expect(await page.textContent('.join-status')).toMatch(/no WebGPU adapter/);
    expect((await api(coord.url, 'GET', `/api/runs/${run.id}`)).body.participants).toEqual([]);
    await page.close();
  });

  it('a wrong join token and a wrong admin token get clear messages', async () => {
    const { run } = await createRun(coord.url);
    const tab = await browser.newPage();
    await tab.goto(`${coord.url}/e2e/pages/join.html?run=${run.id}&token=nope`);
    await waitState(tab, ['error'], 30_000);
    expect(await tab.textContent('.join-status')).toBe(`Cannot join: wrong join token for run ${run.id}`);
    const admin = await browser.newPage();
    await admin.goto(`${coord.url}/admin.html#token=nope`);
    await admin.waitForSelector('#login:not([hidden])');
    expect(await admin.textContent('#login-error')).toBe('wrong admin token');
    expect(await admin.isHidden('#app')).toBe(true);
    await Promise.all([tab.close(), admin.close()]);
  });
});
