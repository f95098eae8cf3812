// `tabtron validate <config.yml...>`: resolves NeoX config files as training would and
// prints the result (YAML, or JSON with --json) and the warnings; on an invalid config,
// prints every problem to stderr and returns/sets a non-zero exit code.

import { stringify } from 'yaml';
import { ConfigError, loadConfig } from '../src/config/index';
import { describePrecision } from '../src/train/precision';

export interface ValidateOptions {
  json?: boolean;
}

/** Returns the exit code (also stored in process.exitCode): 0 valid, 1 invalid. */
export function validateCommand(paths: string[], opts: ValidateOptions = {}): number {
  try {
    const { config, warnings, sources } = loadConfig(paths);
    const runs = { precision: describePrecision(config) };
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ ok: true, config, runs, warnings, sources }, null, 2)}\n`);
    } else {
      process.stdout.write(`# resolved from ${paths.join(', ')}\n${stringify(config)}`);
      process.stdout.write(`\nruns: precision ${runs.precision}\n`);
      process.stdout.write(
        warnings.length
          ? `\nwarnings (${warnings.length}):\n${warnings.map((w) => `  - ${w}\n`).join('')}`
          : '\nno warnings\n',
      );
    }
    process.exitCode = 0;
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (opts.json) process.stdout.write(`${JSON.stringify({ ok: false, issues: e.issues }, null, 2)}\n`);
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
    return 1;
  }
}
