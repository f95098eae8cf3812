// `tabtron train <config> --tabs N`: an in-process coordinator and N headless Chromium tabs
// train the config's pipeline × data-parallel layout together over WebRTC (runHeadless), with a
// progress bar and NeoX's interval log (cli/train-log.ts) from the coordinator's metrics,
// ending with the final losses.
import { readFileSync } from 'node:fs';
import { runHeadless, type HeadlessUpdate } from '../coordinator/headless';
import { planRun } from '../coordinator/planning';
import type { WebMode } from '../coordinator/web';
import type { ConfigSource } from '../coordinator/store';
import { CliError } from './errors';
import { formatEntry, IntervalLog } from './train-log';
import { TrainProgress } from './train-progress';

export { CliError };

export interface TabsRunOptions {
  tabs?: number;
  maxSteps?: number;
  json?: boolean;
  quiet?: boolean;
  /** seconds without any progress before giving up */
  stallTimeout?: number;
  /** how the coordinator serves the web app to the tabs (default: a build made at start) */
  web?: WebMode;
}

export interface TabsPlan {
  sources: ConfigSource[];
  world: number;
  tp: number;
  sizes: string;
  trainIters: number;
  logInterval: number;
}

/** Reads and plans the run as the coordinator will; `--max-steps` becomes a last config file
 *  that shortens train_iters and keeps the learning-rate schedule of the full run. */
export function planTabsRun(paths: string[], maxSteps?: number): TabsPlan {
  const sources: ConfigSource[] = paths.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  let planned: ReturnType<typeof planRun>;
  try {
    planned = planRun(sources);
  } catch (e) {
    throw new CliError(`${paths.join(' + ')}: ${(e as Error).message}`);
  }
  const { config, plan } = planned;
  const iters = config.train_iters as number;
  if (maxSteps !== undefined) {
    if (!Number.isInteger(maxSteps) || maxSteps < 1)
      throw new CliError(`--max-steps must be a positive integer, got ${maxSteps}`);
    if (maxSteps < iters) {
      const decay = (config.lr_decay_iters as number | null) ?? iters;
      sources.push({ file: '--max-steps', text: `train_iters: ${maxSteps}\nlr_decay_iters: ${decay}\n` });
    }
  }
  const p = plan as { world: number; pp: number; tp: number; dp: number };
  return {
    sources,
    world: p.world,
    tp: p.tp,
    sizes: `PP ${p.pp} × TP ${p.tp} × DP ${p.dp}`,
    trainIters: Math.min(iters, maxSteps ?? iters),
    logInterval: config.log_interval as number,
  };
}

export async function trainTabsCommand(paths: string[], opts: TabsRunOptions): Promise<number> {
  const plan = planTabsRun(paths, opts.maxSteps);
  const tabs = opts.tabs ?? plan.world;
  if (tabs < plan.world)
    throw new CliError(
      `--tabs ${tabs} is fewer than the ${plan.world} ranks ${paths.join(' + ')} needs (${plan.sizes}); use --tabs ${plan.world}`,
    );
  const bar = new TrainProgress(
    'train |{bar}| {value}/{total} steps | loss {loss} | val {val} | {tps} tok/s | {state}',
    opts.quiet,
  );
  const log = (s: string) => bar.line(s);
  const intervals = new IntervalLog(plan.logInterval, plan.trainIters);
  const fmt = (x: number | null, digits = 4) => (x === null ? '–' : x.toFixed(digits));
  let interval = { loss: '–', tps: '–' };
  let lastState = '';
  const t0 = Date.now();
  let firstRunning = 0;
  const onUpdate = (u: HeadlessUpdate) => {
    const state =
      u.run.state === 'running' ? 'running' : `${u.run.state}${u.run.stateReason ? `: ${u.run.stateReason}` : ''}`;
    if (u.run.state === 'running' && !firstRunning) firstRunning = Date.now();
    if (state !== lastState && !bar.shown) log(`run ${u.run.id}: ${state}`);
    lastState = state;
    for (const s of u.steps) {
      const entry = intervals.add(s);
      if (!entry) continue;
      log(formatEntry(entry, plan.trainIters));
      interval = { loss: fmt(entry.train_loss), tps: fmt(entry.tokens_per_sec, 0) };
    }
    const values = { ...interval, val: fmt(u.valLoss), state: u.run.state };
    if (u.run.state === 'running') bar.start(plan.trainIters, Math.min(u.run.step, plan.trainIters), values);
    bar.update(Math.min(u.run.step, plan.trainIters), values);
  };
  log(`${tabs} tabs for ${plan.world} ranks (${plan.sizes}); ${plan.trainIters} steps`);
  try {
    const r = await runHeadless({
      sources: plan.sources,
      tabs,
      web: opts.web,
      onUpdate,
      stallMs: (opts.stallTimeout ?? 300) * 1000,
      onPageError: (tab, m) => log(`[tab ${tab}] ${m}`),
    }).catch((e: Error) => {
      throw new CliError(e.message);
    });
    bar.stop();
    const trainSeconds = firstRunning ? (Date.now() - firstRunning) / 1000 : null;
    if (r.trainLoss === null || r.valLoss === null)
      throw new CliError(`run ${r.runId} stopped (${r.run.stateReason}) before reporting its losses`);
    if (r.run.step < plan.trainIters)
      throw new CliError(`run ${r.runId} stopped at step ${r.run.step} of ${plan.trainIters}: ${r.run.stateReason}`);
    const summary = {
      run_id: r.runId,
      tabs,
      world: plan.world,
      layout: plan.sizes,
      steps: r.run.step,
      final_train_loss: r.trainLoss,
      final_valid_loss: r.valLoss,
      tokens_per_sec: r.tokensPerSec,
      seconds: (Date.now() - t0) / 1000,
      train_seconds: trainSeconds,
      log: intervals.entries,
    };
    if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else
      process.stdout.write(
        `done: ${summary.steps} steps on ${tabs} tabs (${plan.sizes}), train loss ${r.trainLoss.toFixed(4)}, validation loss ${r.valLoss.toFixed(4)}\n`,
      );
    return 0;
  } finally {
    bar.stop();
  }
}
