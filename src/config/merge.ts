// Several config files merge in order, as NeoX users pass them (`model.yml local_setup.yml`):
// a later file's top-level key replaces the earlier value whole — nested dicts such as
// `optimizer` are not merged key by key. A null value means "unset": the default applies.

import type { ConfigIssue } from './errors';
import { canonicalizeKeys, isMapping, type RawConfig } from './parse';

export interface Merged {
  data: Record<string, unknown>;
  /** the file that gave each key its final value (keys not set anywhere are absent) */
  sources: Record<string, string>;
  issues: ConfigIssue[];
}

export function mergeConfigs(raws: readonly RawConfig[]): Merged {
  const data: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  const issues: ConfigIssue[] = [];
  for (const raw of raws) {
    if (!isMapping(raw.data)) {
      issues.push({
        keys: [],
        message: `${raw.file}: a config must be a mapping of keys to values, got ${JSON.stringify(raw.data)}`,
      });
      continue;
    }
    const canonical = canonicalizeKeys(raw);
    issues.push(...canonical.issues);
    for (const [key, value] of Object.entries(canonical.data)) {
      if (value === null || value === undefined) {
        delete data[key];
        delete sources[key];
      } else {
        data[key] = value;
        sources[key] = raw.file;
      }
    }
  }
  return { data, sources, issues };
}
