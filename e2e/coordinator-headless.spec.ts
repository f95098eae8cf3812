// runHeadless: an in-process coordinator, N headless Chromium tabs, progress followed
// through the admin API until the run finishes. The tabs open the test join page, so the
// test plays the training ranks' part by sending their progress from the pages. The in-process
// coordinator's temporary data directory exists during the run and is gone after it.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { runHeadless, type HeadlessUpdate } from '../coordinator/headless';
import { TINY } from '../coordinator/test-helpers';

const tempRoot = mkdtempSync(join(tmpdir(), 'tabtron-headless-spec-'));
afterAll(() => rmSync(tempRoot, { recursive: true, force: true }));

describe('headless N-tab run', () => {
  it('opens 3 tabs for a 2-rank run (one standby), follows progress and returns the final losses', async () => {
    const updates: HeadlessUpdate[] = [];
    const errors: string[] = [];
    let duringRun: string[] = [];
    const result = await runHeadless({
      sources: [
        TINY,
        {
          file: 'pp2.yml',
          text: 'pipe_parallel_size: 2\ngradient_accumulation_steps: 2\ntrain_iters: 3\neval_interval: 3\nsample_tokens: 0',
        },
      ],
      tabs: 3,
      tempRoot,
      pagePath: '/e2e/pages/join.html',
      timeoutMs: 120_000,
      pollMs: 200,
      onUpdate: (u) => updates.push(u),
      onPageError: (tab, m) => errors.push(`tab ${tab}: ${m}`),
      onTabs: async (pages) => {
        duringRun = readdirSync(tempRoot);
        const state = (p: Page) => p.evaluate(() => window.tabtronJoin?.panel?.state ?? '');
        const rankOf = (p: Page) => p.evaluate(() => window.tabtronJoin?.assignment?.rank ?? null);
        for (const p of pages)
          await p.waitForFunction(
            () => ['training', 'standby'].includes(window.tabtronJoin?.panel?.state ?? ''),
            null,
            { timeout: 60_000 },
          );
        expect((await Promise.all(pages.map(state))).sort()).toEqual(['standby', 'training', 'training']);
        const ranked = [];
        for (const p of pages) if ((await rankOf(p)) !== null) ranked.push({ p, rank: (await rankOf(p))! });
        for (let step = 1; step <= 3; step++) {
          for (const { p, rank } of ranked) {
            const msg =
              rank === 1
                ? {
                    type: 'progress',
                    step,
                    loss: 5 - step / 2,
                    tokensPerSec: 100,
                    ...(step === 3 ? { valLoss: 4.1 } : {}),
                  }
                : { type: 'progress', step };
            await p.evaluate((m) => window.tabtronJoin.connection!.send(m as never), msg);
          }
        }
      },
    });
    expect(errors).toEqual([]);
    expect(result).toMatchObject({
      trainLoss: 3.5,
      valLoss: 4.1,
      tokensPerSec: 100,
      run: { state: 'stopped', step: 3, stateReason: 'finished: every rank reached train_iters 3' },
    });
    expect(updates.at(-1)!.run.state).toBe('stopped');
    // every step once, in order, with the last stage's numbers
    expect(updates.flatMap((u) => u.steps)).toEqual([
      { step: 1, loss: 4.5, lr: null, tokensPerSec: 100 },
      { step: 2, loss: 4, lr: null, tokensPerSec: 100 },
      { step: 3, loss: 3.5, lr: null, tokensPerSec: 100 },
    ]);
    expect(duringRun).toEqual([expect.stringMatching(/^tabtron-headless-/)]);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('refuses fewer tabs than ranks, naming the sizes', async () => {
    const err = await runHeadless({
      sources: [TINY, { file: 'tp2.yml', text: 'model_parallel_size: 2' }],
      tabs: 1,
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe("--tabs 1 is fewer than the run's 2 ranks (PP 1 × TP 2 × DP 1)");
  });
});
