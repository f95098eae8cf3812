// Volunteers come and go, for real: headless Chromium tabs (each in a browser of its
// own) train over WebRTC with a coordinator process; mid-run a rank's page is closed, another
// reloaded, a third crashed (chrome://crash), and the coordinator killed (SIGKILL) and started
// again. Every run must finish, and every step's loss must equal the uninterrupted run's within
// 1e-6 relative. The uninterrupted losses come from the same layout over loopback in one worker
// (the same kernels and order of operations, so the same numbers as tabs over WebRTC).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-files';
import { type ChurnEvent, type ChurnResult, runChurn } from '../src/node/churn';
import type { TrainEvent } from '../src/train/events';
import { useGpuTestPage } from './gpu-page';

const gpu = useGpuTestPage();
const STEPS = 14;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TP2PP2 = 'model_parallel_size: 2\npipe_parallel_size: 2\nglobal_num_gpus: 4\n';
const PP2DP2 = 'model_parallel_size: 1\npipe_parallel_size: 2\nglobal_num_gpus: 4\n';
const base = { file: 'configs/tiny-3d.yml', text: readFileSync('configs/tiny-3d.yml', 'utf8') };

function settings(layout: string): { file: string; text: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tabtron-churn-save-'));
  dirs.push(dir);
  const text = `${layout}train_iters: ${STEPS}\nlr_decay_iters: ${STEPS}\neval_interval: 6\nsample_tokens: 0\nsave: ${dir}\ncheckpoint_factor: 2\nsnapshot_interval: 1\n`;
  return { file: 'churn.yml', text };
}

/** The uninterrupted run's losses: the same layout over loopback in one worker. */
async function uninterrupted(layout: string): Promise<number[]> {
  const extra = settings(layout);
  const cfg = loadConfig([base.file], Object.fromEntries(extra.text.trim().split('\n').map(kv))).config;
  const ranks: TrainEvent[][] = await gpu.page.evaluate(([c, n]) => (window as any).gpuTests.trainLayout(c, 4, n), [
    cfg,
    STEPS,
  ] as const);
  return ranks[0].filter((e) => e.kind === 'step').map((e) => (e as { loss: number }).loss);
}

function kv(line: string): [string, unknown] {
  const [k, v] = line.split(':').map((s) => s.trim());
  return [k, /^\d+$/.test(v) ? Number(v) : v];
}

async function churn(layout: string, tabs: number, events: ChurnEvent[]): Promise<ChurnResult> {
  const r = await runChurn({
    sources: [base, settings(layout)],
    tabs,
    events,
    coordinatorArgs: ['--reconnect-grace-ms', '4000'],
    // TABTRON_CHURN_LOG=1: the driver's and the coordinator's lines, timed from the start
    log: process.env.TABTRON_CHURN_LOG ? timedLog() : undefined,
  });
  expect(r.error).toBeNull();
  expect(r.completed).toBe(true);
  expect(r.applied.map((e) => e.kind)).toEqual(events.map((e) => e.kind));
  return r;
}

function timedLog(): (line: string) => void {
  const t0 = Date.now();
  return (line) => console.log(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s ${line.slice(0, 300)}`);
}

function worstRelDiff(got: number[], want: number[]): number {
  expect(got).toHaveLength(STEPS);
  expect(want).toHaveLength(STEPS);
  return Math.max(...got.map((l, i) => Math.abs(l - want[i]) / Math.abs(want[i])));
}

const restoredFrom = (r: ChurnResult) => r.recoveries.filter((x) => x.cause !== 'start').map((x) => x.restoredFrom);

describe('volunteers come and go (real tabs, WebRTC, a coordinator process)', () => {
  it('TP2 × PP2, one standby: close, reload, crash (+ a new tab), coordinator restart: same losses', async () => {
    const want = await uninterrupted(TP2PP2);
    const r = await churn(TP2PP2, 5, [
      { kind: 'close', step: 2, rank: 3 },
      { kind: 'reload', step: 4, rank: 1 },
      { kind: 'crash', step: 6, rank: 2 },
      { kind: 'join', step: 6 }, // no standby is left: the run waits for a tab, then goes on
      { kind: 'coordinator-restart', step: 8 },
    ]);
    expect(worstRelDiff(r.losses, want)).toBeLessThanOrEqual(1e-6);
    const causes = r.recoveries.map((x) => x.cause);
    expect(causes).toContain('coordinator-restart');
    // no replica holds a TP × PP rank's state: a newcomer starts from the newest checkpoint;
    // the reloaded tab comes back to its rank from its own snapshot
    expect(restoredFrom(r)).toContain('checkpoint');
    expect(r.recoveries.find((x) => x.cause === 'reload')?.restoredFrom).toBe('local');
    expect(r.recoveries.find((x) => x.cause === 'coordinator-restart')!.restoredFrom).toBe('none');
  });

  it('PP2 × DP2, one standby: dp-peer restore, reload, crash with no standby left shrinks, restart, grows back', async () => {
    const want = await uninterrupted(PP2DP2);
    const r = await churn(PP2DP2, 5, [
      { kind: 'close', step: 2, rank: 3 }, // the standby takes it: its replica sends the state
      { kind: 'reload', step: 4, rank: 1 },
      { kind: 'crash', step: 5, rank: 2 }, // no standby left: one replica goes on, accumulating twice
      { kind: 'join', step: 6 }, // a new tab (it loads while the run goes on): the second replica is back
      { kind: 'coordinator-restart', step: 9 },
    ]);
    expect(worstRelDiff(r.losses, want)).toBeLessThanOrEqual(1e-6);
    const changes = r.recoveries.filter((x) => x.cause !== 'start');
    const first = changes[0];
    expect(first).toMatchObject({ cause: 'close', restoredFrom: 'dp-peer' });
    expect(first.resumeStep).toBeGreaterThanOrEqual(first.committedStep); // nothing finished was given up
    const layouts = changes.filter((x) => x.layout).map((x) => [x.cause, x.layout!.dp, x.layout!.accum]);
    // (a crashed renderer's socket closes like a closed tab's: the coordinator cannot tell them apart)
    expect(layouts.some(([, dp, accum]) => dp === 1 && accum === 4)).toBe(true);
    expect(layouts).toContainEqual(['grow', 2, 2]);
    expect(changes.find((x) => x.cause === 'grow')!.restoredFrom).toBe('dp-peer');
    expect(changes.find((x) => x.cause === 'coordinator-restart')!.restoredFrom).toBe('none');
  });
});
