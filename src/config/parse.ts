// NeoX YAML text → a plain mapping. NeoX configs are YAML with `{ ... }` flow mappings,
// comments inside them, trailing commas, Python-style True/False and 1.0e-8 floats;
// the `yaml` package's default (YAML 1.2 core schema) reads all of these.

import { parseDocument } from 'yaml';
import { ConfigError, type ConfigIssue } from './errors';

export interface RawConfig {
  /** where the mapping came from: a path, or a label such as "overrides" */
  file: string;
  data: Record<string, unknown>;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses one config file's text; throws a ConfigError listing every YAML error in it. */
export function parseConfigText(text: string, file: string): RawConfig {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length) {
    const issues: ConfigIssue[] = doc.errors.map((e) => {
      const at = e.linePos ? `:${e.linePos[0].line}:${e.linePos[0].col}` : '';
      const what = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return { keys: [], message: `${file}${at}: ${what}` };
    });
    throw new ConfigError(issues);
  }
  const data: unknown = doc.toJS() ?? {};
  if (!isMapping(data)) {
    const kind = Array.isArray(data) ? 'a list' : JSON.stringify(data);
    throw new ConfigError([
      { keys: [], message: `${file}: a config must be a mapping of keys to values, got ${kind}` },
    ]);
  }
  return { file, data };
}

/** NeoX treats dashes and underscores in top-level keys alike; the underscore form is canonical. */
export function canonicalKey(key: string): string {
  return key.replaceAll('-', '_');
}

/**
 * Rewrites top-level keys to their underscore form. The same key spelled both ways in
 * one mapping is an issue naming both spellings.
 */
export function canonicalizeKeys(raw: RawConfig): { data: Record<string, unknown>; issues: ConfigIssue[] } {
  const data: Record<string, unknown> = {};
  const spelling = new Map<string, string>();
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(raw.data)) {
    const canonical = canonicalKey(key);
    const earlier = spelling.get(canonical);
    if (earlier !== undefined) {
      issues.push({
        keys: [canonical],
        message: `${raw.file}: "${earlier}" and "${key}" are the same key (dashes and underscores are equivalent); keep one`,
      });
      continue;
    }
    spelling.set(canonical, key);
    data[canonical] = value;
  }
  return { data, issues };
}
