// Reading config files from disk (Node only). node:fs is taken lazily through
// process.getBuiltinModule so that importing src/config in a browser bundle stays safe.

import { ConfigError, type ConfigIssue } from './errors';
import { parseConfigText, type RawConfig } from './parse';
import { resolveConfig, type ResolvedConfig } from './resolve';

function readText(path: string): string {
  const fs = process.getBuiltinModule('node:fs');
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
    throw new ConfigError([{ keys: [], message: `${path}: cannot read config file (${reason})` }]);
  }
}

/**
 * Loads NeoX YAML files in order (later files win), then `overrides` (e.g. from the
 * command line, labelled "overrides" in messages). Reports the problems of all files at once.
 */
export function loadConfig(paths: readonly string[], overrides?: Record<string, unknown>): ResolvedConfig {
  if (paths.length === 0 && !overrides) {
    throw new ConfigError([{ keys: [], message: 'no config files given' }]);
  }
  const raws: RawConfig[] = [];
  const issues: ConfigIssue[] = [];
  for (const path of paths) {
    try {
      raws.push(parseConfigText(readText(path), path));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      issues.push(...e.issues);
    }
  }
  if (issues.length) throw new ConfigError(issues);
  if (overrides) raws.push({ file: 'overrides', data: overrides });
  return resolveConfig(raws);
}
