// Checkpoints through the coordinator with real tabs: 4 headless tabs train configs/tiny-3d.yml
// (TP2 × PP2, shrunk) for 3 of 6 steps with `save` set; each rank uploads its file to the
// coordinator (checksummed), which writes the manifest once all 4 are in. A second run, laid out
// TP2 × DP2 (the same global batch), `load`s that directory and trains steps 4–6. Every step's
// loss must equal one rank training all 6 steps in one tab (1e-4 relative), and `tabtron
// checkpoint inspect` must verify the files on disk.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricsResponse } from '../coordinator/api-schemas';
import { runHeadless } from '../coordinator/headless';
import { startCoordinator, type Coordinator } from '../coordinator/server';
import { createLogger } from '../coordinator/telemetry';
import { loadConfig } from '../src/config/load-files';
import { removeTempDirs, tempDir } from '../src/node/temp-dirs';
import type { TrainEvent } from '../src/train/events';
import { launchChromium } from './browser';

const ITERS = 6;
// (no greedy sample at evaluations: that is tested in layouts.spec and multitab-train.spec)
const SHRINK = {
  seq_length: 32,
  hidden_size: 32,
  lr_decay_iters: ITERS,
  warmup: 0.2,
  eval_interval: 3,
  eval_iters: 2,
  sample_tokens: 0,
};
const yaml = (o: Record<string, unknown>) =>
  `${Object.entries(o)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join('\n')}\n`;

let coordinator: Coordinator;
const ckptDir = tempDir('tabtron-ckpt-');

beforeAll(async () => {
  coordinator = await startCoordinator({
    port: 0,
    dataDir: tempDir('tabtron-multitab-ckpt-'),
    adminToken: 'ckpt-admin',
    web: 'build',
    webWatch: false,
    logger: createLogger('warn'),
  });
});

afterAll(async () => {
  await coordinator?.close();
  removeTempDirs();
});

async function losses(runId: string): Promise<number[][]> {
  const res = await fetch(`${coordinator.url}/api/runs/${runId}/metrics?limit=20000`, {
    headers: { authorization: 'Bearer ckpt-admin' },
  });
  const { points } = (await res.json()) as MetricsResponse;
  const ranks = [...new Set(points.map((p) => p.rank))].sort();
  return ranks.map((r) =>
    points
      .filter((p) => p.rank === r && p.name === 'loss')
      .sort((a, b) => a.step - b.step)
      .map((p) => p.value),
  );
}

async function train(extra: Record<string, unknown>) {
  const errors: string[] = [];
  const sources = [
    { file: 'configs/tiny-3d.yml', text: readFileSync('configs/tiny-3d.yml', 'utf8') },
    { file: 'run.yml', text: yaml({ ...SHRINK, ...extra }) },
  ];
  const result = await runHeadless({
    sources,
    tabs: 4,
    coordinatorUrl: coordinator.url,
    adminToken: 'ckpt-admin',
    timeoutMs: 150_000,
    stallMs: 90_000,
    pollMs: 250,
    onPageError: (tab, m) => errors.push(`tab ${tab}: ${m}`),
  });
  expect(errors).toEqual([]);
  return result;
}

async function singleRank(): Promise<number[]> {
  const c = loadConfig(['configs/tiny-3d.yml'], {
    ...SHRINK,
    train_iters: ITERS,
    pipe_parallel_size: 0,
    model_parallel_size: 1,
    global_num_gpus: 1,
    gradient_accumulation_steps: 2,
  }).config;
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${coordinator.url}/e2e/pages/gpu-worker.html`);
    await page.waitForFunction(() => 'gpuTests' in window);
    const events: TrainEvent[] = await page.evaluate(([cfg, n]) => (window as any).gpuTests.train(cfg, n), [
      c,
      ITERS,
    ] as const);
    return events.filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step').map((e) => e.loss);
  } finally {
    await browser.close();
  }
}

describe('checkpoints through the coordinator, real tabs', () => {
  it('TP2×PP2 saves at step 3 of 6; TP2×DP2 loads it and finishes with the uninterrupted losses', async () => {
    const first = await train({ train_iters: 3, save: ckptDir, checkpoint_factor: 3 });
    expect(first.run).toMatchObject({ state: 'stopped', step: 3, sizes: { tp: 2, pp: 2, dp: 1 } });
    const iter = join(ckptDir, 'iter_0000003');
    expect(existsSync(join(iter, 'manifest.json'))).toBe(true);
    const manifest = JSON.parse(readFileSync(join(iter, 'manifest.json'), 'utf8'));
    expect(manifest.files.map((f: { name: string }) => f.name)).toEqual(
      [0, 1, 2, 3].map((r) => `rank_0000${r}.safetensors`),
    );
    // not spawnSync: the coordinator runs in this process, and a blocked event loop let its idle
    // keep-alive socket expire under the next request (ECONNRESET on a loaded machine)
    const inspect = await promisify(execFile)(process.execPath, ['bin/tabtron.mjs', 'checkpoint', 'inspect', ckptDir], {
      encoding: 'utf8',
    });
    expect(inspect.stdout).toMatch(/sha256 ok/);

    const second = await train({
      train_iters: ITERS,
      load: ckptDir,
      pipe_parallel_size: 0,
      gradient_accumulation_steps: 1,
    });
    expect(second.run).toMatchObject({ state: 'stopped', step: ITERS, sizes: { tp: 2, pp: 1, dp: 2 } });
    const a = await losses(first.runId),
      b = await losses(second.runId);
    for (const r of a) expect(r).toEqual(a[0]);
    for (const r of b) expect(r).toEqual(b[0]);
    expect(a[0]).toHaveLength(3);
    expect(b[0]).toHaveLength(3); // steps 4, 5, 6 only: it resumed
    const got = [...a[0], ...b[0]];
    const want = await singleRank();
    got.forEach((l, i) =>
      expect(Math.abs(l - want[i]) / want[i], `step ${i + 1}: ${l} vs ${want[i]}`).toBeLessThanOrEqual(1e-4),
    );
    console.log(
      `[multitab checkpoint] losses ${got.map((l) => l.toFixed(5)).join(' ')} vs one rank ${want.map((l) => l.toFixed(5)).join(' ')}`,
    );
  });
});
