// `tabtron coordinator [configs...]`: starts the coordinator; with config files it also
// creates a run from them and prints the contributor and admin URLs.

import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULTS, startCoordinator, type Coordinator } from '../coordinator/server';
import { DEFAULT_TIMEOUTS } from '../coordinator/lifecycle';
import type { WebMode } from '../coordinator/web';

const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
};

export interface CoordinatorCliOptions {
  port: number;
  host: string;
  dataDir: string;
  adminToken?: string;
  web: WebMode;
  dp?: number;
  name?: string;
  rankGraceMs: number;
  reconnectGraceMs: number;
  haltTimeoutMs: number;
  restoreTimeoutMs: number;
  joinLimit: number;
  /** vite mode: watch source files and hot-reload pages (default true) */
  watch: boolean;
  checkpointMaxBytes?: number;
}

export function coordinatorCommand(): Command {
  return new Command('coordinator')
    .description('serve the web app, HTTP API, tab WebSockets, PeerJS signalling and /metrics on one port')
    .argument('[configs...]', 'NeoX YAML files (merged in order) for a run to create at start')
    .addOption(new Option('--port <n>', 'port (0: any free port)').default(DEFAULTS.port).argParser(int('--port', 0)))
    .option('--host <host>', 'address to bind', DEFAULTS.host)
    .option('--data-dir <dir>', 'where the SQLite state lives', '.tabtron/data')
    .addOption(
      new Option('--admin-token <token>', 'admin API token (default: generated and logged)').env('TABTRON_ADMIN_TOKEN'),
    )
    .addOption(
      new Option(
        '--web <mode>',
        'web app: built dist/, a build made now, Vite middleware, none, or auto (dist/ if built, else Vite)',
      )
        .choices(['auto', 'dist', 'build', 'vite', 'none'])
        .default(DEFAULTS.web),
    )
    .addOption(
      new Option(
        '--dp <n>',
        'data-parallel size of the run created from [configs...] (default: from global_num_gpus, else 1)',
      ).argParser(int('--dp', 1)),
    )
    .option('--name <name>', 'name of the run created from [configs...]')
    .option('--no-watch', 'vite mode: do not watch source files (edits never reload training tabs)')
    .addOption(
      new Option('--rank-grace-ms <ms>', 'how long a tab may be without a socket (standbys; all tabs after a restart)')
        .default(DEFAULTS.rankGraceMs)
        .argParser(int('--rank-grace-ms', 0)),
    )
    .addOption(
      new Option('--reconnect-grace-ms <ms>', "how long a rank waits for its tab's socket to come back (a reload)")
        .default(DEFAULT_TIMEOUTS.reconnectGraceMs)
        .argParser(int('--reconnect-grace-ms', 0)),
    )
    .addOption(
      new Option('--halt-timeout-ms <ms>', 'how long a rank has to stop and report when membership changes')
        .default(DEFAULT_TIMEOUTS.haltTimeoutMs)
        .argParser(int('--halt-timeout-ms', 1)),
    )
    .addOption(
      new Option('--restore-timeout-ms <ms>', 'how long the ranks of a new generation have to connect and restore')
        .default(DEFAULT_TIMEOUTS.restoreTimeoutMs)
        .argParser(int('--restore-timeout-ms', 1)),
    )
    .addOption(
      new Option('--join-limit <n>', 'joins per minute per client address')
        .default(DEFAULTS.joinRateLimit.limit)
        .argParser(int('--join-limit', 1)),
    )
    .addOption(
      new Option(
        '--checkpoint-max-bytes <n>',
        'largest rank checkpoint file a tab may upload (default 1 GiB)',
      ).argParser(int('--checkpoint-max-bytes', 1)),
    )
    .action(async (configs: string[], opts: CoordinatorCliOptions) => {
      await serve(configs, opts);
    });
}

export function registerCoordinatorCommand(program: Command): void {
  program.addCommand(coordinatorCommand());
}

export async function serve(configs: string[], opts: CoordinatorCliOptions): Promise<Coordinator> {
  const sources = configs.map((f) => {
    try {
      return { file: f, text: readFileSync(resolve(f), 'utf8') };
    } catch (e) {
      throw new Error(`cannot read config ${f}: ${(e as Error).message}`);
    }
  });
  const c = await startCoordinator({
    port: opts.port,
    host: opts.host,
    dataDir: resolve(opts.dataDir),
    adminToken: opts.adminToken,
    web: opts.web,
    webWatch: opts.watch,
    rankGraceMs: opts.rankGraceMs,
    elastic: {
      reconnectGraceMs: opts.reconnectGraceMs,
      haltTimeoutMs: opts.haltTimeoutMs,
      restoreTimeoutMs: opts.restoreTimeoutMs,
    },
    joinRateLimit: { windowMs: 60_000, limit: opts.joinLimit },
    checkpointMaxBytes: opts.checkpointMaxBytes,
    initialRuns: sources.length ? [{ name: opts.name, sources, dp: opts.dp }] : [],
  });
  const stop = () => {
    void c.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (!opts.adminToken) process.stderr.write(`admin token: ${c.adminToken}\n`);
  for (const id of c.createdRunIds) {
    const run = c.runs.getRun(id);
    process.stderr.write(
      `run ${id}: contributors open ${c.url}/?run=${id}&token=${encodeURIComponent(run.joinToken)}\n`,
    );
  }
  process.stderr.write(`admin: ${c.url}/admin.html\n`);
  return c;
}
