// `tabtron train <config.yml...>`: validates the NeoX config, then trains in headless
// Chromium tab(s) on WebGPU (the real GPU where there is one, SwiftShader otherwise),
// with a progress bar, and exits with the final losses. One rank: one standalone tab;
// more (pipeline/data-parallel configs, or --tabs N > 1): N tabs and a coordinator
// (cli/train-tabs.ts). Every log_interval steps (and after the last) a line gives the train
// loss averaged over the interval, as NeoX logs it; --json adds those lines as `log`.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { WebMode } from '../coordinator/web';
import { loadConfig } from '../src/config/load-files';
import { dataPaths } from '../src/data/data-config';
import { locateData } from '../src/node/data-files';
import { trainInHeadlessTab } from '../src/node/headless-train';
import type { TrainEvent } from '../src/train/events';
import type { TrainConfig } from '../src/train/setup';
import { formatEntry, IntervalLog } from './train-log';
import { TrainProgress } from './train-progress';
import { CliError, planTabsRun, trainTabsCommand } from './train-tabs';
import { validateCommand } from './validate';

export interface TrainCliOptions {
  tabs?: number;
  maxSteps?: number;
  json?: boolean;
  quiet?: boolean;
  /** --tabs runs: seconds without progress before giving up */
  stallTimeout?: number;
  /** --tabs runs: how the coordinator serves the web app */
  web?: WebMode;
}

export async function trainCommand(paths: string[], opts: TrainCliOptions): Promise<number> {
  const { config, warnings } = loadConfig(paths);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const c = config as unknown as TrainConfig & { log_interval: number };
  if (opts.tabs !== undefined && (!Number.isInteger(opts.tabs) || opts.tabs < 1))
    throw new CliError(`--tabs must be a positive integer, got ${opts.tabs}`);
  const world = planTabsRun(paths).world;
  // save / load go through a coordinator (it keeps the checkpoint files), and so do indexed datasets (it
  // serves them to tabs by byte range): such runs take that road even on one tab
  const checkpoints = Boolean(c.save || c.load);
  const dataFiles = dataPaths(c);
  let textFile: string | null = null;
  try {
    if (dataFiles.length === 1 && locateData(dataFiles[0]).kind === 'text') textFile = locateData(dataFiles[0]).full;
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  if ((opts.tabs ?? world) > 1 || world > 1 || checkpoints || (dataFiles.length > 0 && !textFile))
    return trainTabsCommand(paths, opts);
  const corpusText = textFile ? readFileSync(textFile, 'utf8') : null;
  const bar = new TrainProgress(
    'train |{bar}| {value}/{total} steps | loss {loss} | val {val} | {tps} tok/s',
    opts.quiet,
  );
  const log = (s: string) => bar.line(s);
  let val = '–';
  let intervals = null as IntervalLog | null;
  const history: TrainEvent[] = [];
  const onEvent = (e: TrainEvent) => {
    history.push(e);
    switch (e.kind) {
      case 'start':
        log(
          `adapter: ${e.adapter?.vendor ?? '?'} / ${e.adapter?.architecture ?? '?'}${e.adapter?.isFallbackAdapter ? ' (software)' : ''}`,
        );
        log(
          `model: ${(e.params / 1e6).toFixed(3)}M parameters, vocab ${e.vocab}; corpus ${e.corpusTokens} tokens; ${e.tokensPerStep} tokens/step`,
        );
        if (e.precision) log(`precision: ${e.precision}`);
        intervals = new IntervalLog(c.log_interval, e.trainIters);
        bar.start(e.trainIters, 0, { loss: '–', val, tps: '–' });
        break;
      case 'step': {
        const entry = intervals?.add({ step: e.step, loss: e.loss, lr: e.lr, tokensPerSec: e.tokensPerSec });
        if (entry) {
          log(formatEntry(entry, intervals!.lastStep));
          bar.update(e.step, { loss: entry.train_loss.toFixed(4), tps: entry.tokens_per_sec?.toFixed(0) ?? '–' });
        } else bar.update(e.step, {});
        break;
      }
      case 'eval':
        val = e.loss.toFixed(4);
        if (e.step > 0) bar.update(null, { val });
        if (!bar.shown) log(`step ${e.step}: validation loss ${val}`);
        break;
      case 'checkpoint':
        log(
          e.action === 'loaded'
            ? `resumed from checkpoint iteration ${e.iteration} (step ${e.step})`
            : `saved checkpoint step ${e.step}`,
        );
        break;
      case 'done':
      case 'error':
        break;
    }
  };
  try {
    const result = await trainInHeadlessTab({
      config: c,
      corpusText,
      maxSteps: opts.maxSteps,
      onEvent,
      onPageError: (m) => log(`[tab] ${m}`),
    });
    bar.stop();
    const steps = history.filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step');
    const evals = history.filter((e): e is Extract<TrainEvent, { kind: 'eval' }> => e.kind === 'eval');
    const summary = {
      steps: steps.length,
      initial_valid_loss: evals[0]?.loss,
      final_train_loss: result.trainLoss,
      final_valid_loss: result.validLoss,
      log: intervals?.entries ?? [],
    };
    if (opts.json) process.stdout.write(`${JSON.stringify({ ...summary, history })}\n`);
    else
      process.stdout.write(
        `done: ${summary.steps} steps, train loss ${result.trainLoss.toFixed(4)}, validation loss ${summary.initial_valid_loss?.toFixed(4)} → ${result.validLoss.toFixed(4)}\n`,
      );
    return 0;
  } finally {
    bar.stop();
  }
}

export function trainCliCommand(): Command {
  return new Command('train')
    .description('train a GPT from NeoX configs in headless Chromium tab(s) on WebGPU, with a progress bar')
    .argument('<configs...>', 'NeoX YAML config files, merged in order (later files win)')
    .option(
      '--tabs <n>',
      "headless tabs to open (default: the config's ranks, pipe × model parallel × data parallel)",
      (v) => Number(v),
    )
    .option(
      '--stall-timeout <s>',
      'multi-tab runs: give up after this many seconds without progress',
      (v) => Number(v),
      300,
    )
    .option('--max-steps <n>', 'stop after this many steps (default: train_iters)', (v) => Number(v))
    .option('--json', 'print the final losses and the whole history as one JSON object')
    .option('--quiet', 'no progress output on stderr')
    .addOption(
      new Option(
        '--web <mode>',
        'multi-tab runs: serve the tabs a build made now, the built dist/, Vite, or auto (dist/ if built, else Vite)',
      )
        .choices(['build', 'dist', 'vite', 'auto'])
        .default('build')
        .env('TABTRON_WEB'),
    )
    .action(async (configs: string[], opts: TrainCliOptions) => {
      try {
        process.exitCode = await trainCommand(configs, opts);
      } finally {
        // The in-process PeerJS server (npm peer) leaves interval timers running after its
        // HTTP server closes; once the result (or the error, printed next) is out, end anyway.
        setTimeout(() => process.exit(), 500).unref();
      }
    });
}

export function validateCliCommand(): Command {
  return new Command('validate')
    .description('load, merge and validate NeoX configs; print the resolved config and warnings')
    .argument('<configs...>', 'NeoX YAML config files, merged in order')
    .option('--json', 'print the resolved config as JSON')
    .action((configs: string[], opts: { json?: boolean }) => {
      process.exitCode = validateCommand(configs, opts);
    });
}
