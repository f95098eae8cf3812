// Volunteers coming and going, for real: a coordinator process (killed and restarted on demand),
// N headless Chromium tabs (each in a browser of its own) training a run, and events
// injected as the run goes: a rank's page closed mid-step, reloaded, crashed (chrome://crash),
// a new tab joining, the coordinator killed with SIGKILL and started again on its data dir.
// Returns every step's last reported loss and the coordinator's recovery records, for
// e2e/churn.spec.ts and bench/churn.ts.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Page } from 'playwright-core';
import type { MetricsResponse, RunDetail } from '../../coordinator/api-schemas';
import { runHeadless } from '../../coordinator/headless';
import { newSecret } from '../../coordinator/ids';
import type { ConfigSource, RecoveryRow } from '../../coordinator/store';
import { freePorts } from './free-ports';

export type ChurnKind = 'close' | 'reload' | 'crash' | 'coordinator-restart' | 'join';

export interface ChurnEvent {
  kind: ChurnKind;
  /** fires once the run has reported this step (so the ranks are inside the next one) */
  step: number;
  /** the rank whose tab it hits (close, reload, crash) */
  rank?: number;
}

export interface ChurnOptions {
  sources: ConfigSource[];
  tabs: number;
  events: ChurnEvent[];
  /** extra `tabtron coordinator` flags (e.g. --reconnect-grace-ms) */
  coordinatorArgs?: string[];
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface AppliedEvent extends ChurnEvent {
  /** ms since the epoch when it was done */
  at: number;
  participant: string | null;
}

export interface ChurnResult {
  runId: string;
  completed: boolean;
  error: string | null;
  wallS: number;
  /** the last loss reported for each step, index step - 1 */
  losses: number[];
  applied: AppliedEvent[];
  recoveries: RecoveryRow[];
}

const ROOT = resolve(import.meta.dirname, '../..');

/** A coordinator process on a fixed port and data dir, so it can be killed and started again. */
class CoordinatorProcess {
  private proc: ChildProcess | null = null;
  readonly url: string;

  constructor(
    readonly port: number,
    readonly dataDir: string,
    readonly token: string,
    private readonly extra: string[],
    private readonly log: (s: string) => void,
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  async start(): Promise<void> {
    const args = ['bin/tabtron.mjs', 'coordinator', '--port', String(this.port), '--data-dir', this.dataDir];
    args.push('--admin-token', this.token, '--web', 'build', ...this.extra);
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TABTRON_LOG_LEVEL: 'warn' },
    });
    this.proc = proc;
    createInterface({ input: proc.stderr! }).on('line', (l) => this.log(`[coordinator] ${l}`));
    createInterface({ input: proc.stdout! }).on('line', (l) => this.log(`[coordinator] ${l}`));
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`the coordinator exited with ${proc.exitCode} while starting`);
      try {
        const r = await fetch(`${this.url}/api/runs`, { headers: { authorization: `Bearer ${this.token}` } });
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('the coordinator did not start within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** SIGKILL: nothing is flushed, as when the machine goes down. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }

  async get<T>(path: string): Promise<T> {
    const r = await fetch(`${this.url}${path}`, { headers: { authorization: `Bearer ${this.token}` } });
    if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status}`);
    return (await r.json()) as T;
  }
}

async function participantOf(page: Page, runId: string): Promise<string | null> {
  return page
    .evaluate(
      (key) => JSON.parse(sessionStorage.getItem(key) ?? 'null')?.participantId ?? null,
      `tabtron:join:${runId}`,
    )
    .catch(() => null);
}

/** Every step's loss as last reported (a step replayed after a rollback reports again). */
async function lastLosses(c: CoordinatorProcess, runId: string): Promise<number[]> {
  const byStep = new Map<number, { id: number; value: number }>();
  for (let after = 0; ; ) {
    const m = await c.get<MetricsResponse>(`/api/runs/${runId}/metrics?after=${after}&limit=5000`);
    for (const p of m.points) {
      if (p.name !== 'loss') continue;
      const seen = byStep.get(p.step);
      if (!seen || p.id > seen.id) byStep.set(p.step, { id: p.id, value: p.value });
    }
    if (m.points.length === 0 || m.last === after) break;
    after = m.last;
  }
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  return steps.map((s) => byStep.get(s)!.value);
}

export async function runChurn(o: ChurnOptions): Promise<ChurnResult> {
  const log = o.log ?? (() => {});
  const [port] = await freePorts(1);
  const dataDir = mkdtempSync(join(tmpdir(), 'tabtron-churn-'));
  const c = new CoordinatorProcess(port, dataDir, newSecret(18), o.coordinatorArgs ?? [], log);
  const applied: AppliedEvent[] = [];
  const pending = [...o.events].sort((a, b) => a.step - b.step);
  let runId = '';
  let pages: Page[] = [];
  let open: (() => Promise<Page>) | null = null;
  let busy: Promise<void> | null = null;
  const t0 = Date.now();
  let error: string | null = null;

  const pageOfRank = async (rank: number): Promise<{ page: Page; participant: string } | null> => {
    const detail = await c.get<RunDetail>(`/api/runs/${runId}`);
    const id = detail.grid.find((g) => g.rank === rank)?.participant?.id;
    for (const page of pages) {
      if (page.isClosed()) continue;
      const p = await participantOf(page, runId);
      if (id && p === id) return { page, participant: id };
    }
    return null;
  };

  const fire = async (ev: ChurnEvent): Promise<void> => {
    const target = ev.rank !== undefined ? await pageOfRank(ev.rank) : null;
    const at = Date.now();
    log(`[churn] ${ev.kind}${ev.rank !== undefined ? ` rank ${ev.rank}` : ''} after step ${ev.step}`);
    applied.push({ ...ev, at, participant: target?.participant ?? null });
    switch (ev.kind) {
      case 'close':
        await target?.page.close({ runBeforeUnload: false });
        return;
      case 'reload':
        await target?.page.reload().catch(() => {});
        return;
      case 'crash':
        await target?.page.goto('chrome://crash').catch(() => {});
        return;
      case 'join':
        await open?.();
        return;
      case 'coordinator-restart':
        await c.kill();
        await new Promise((r) => setTimeout(r, 1000));
        await c.start();
        return;
    }
  };

  try {
    await c.start();
    const result = await runHeadless({
      sources: o.sources,
      tabs: o.tabs,
      coordinatorUrl: c.url,
      adminToken: c.token,
      timeoutMs: o.timeoutMs ?? 15 * 60_000,
      pollMs: 300,
      onTabs: (ps, run) => {
        pages = ps;
        runId = run.id;
        open = run.open;
      },
      onUpdate: (u) => {
        // one event at a time, each while the run trains (not while it recovers)
        const next = pending[0];
        if (busy || !next || u.run.step < next.step) return;
        // a tab can join a run that waits for one; everything else hits a run that trains
        if (next.kind !== 'join' && u.run.state !== 'running') return;
        const ev = pending.shift()!;
        busy = fire(ev)
          .catch((e: Error) => log(`[churn] ${ev.kind} failed: ${e.message}`))
          .finally(() => {
            busy = null;
          });
      },
      onPageError: (tab, message) => log(`[tab ${tab}] ${message}`),
    });
    runId = result.runId;
    if (pending.length > 0) throw new Error(`the run finished before ${pending.length} event(s) fired`);
  } catch (e) {
    error = (e as Error).message;
  }
  const wallS = (Date.now() - t0) / 1000;
  try {
    if (!runId) throw new Error(`the run never started: ${error}`);
    const detail = await c.get<RunDetail>(`/api/runs/${runId}`);
    const losses = await lastLosses(c, runId);
    const completed = error === null && detail.run.state === 'stopped' && /finished/.test(detail.run.stateReason);
    return { runId, completed, error, wallS, losses, applied, recoveries: [...detail.recoveries].reverse() };
  } finally {
    await c.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
