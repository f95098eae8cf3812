// Keys that are neither modeled by tabtron nor known NeoX keys are typos until proven
// otherwise: an error naming the file and the closest known key.

import { closest, distance } from 'fastest-levenshtein';
import type { ConfigIssue } from './errors';
import { OTHER_NEOX_KEYS } from './neox-keys';
import { canonicalKey, isMapping, type RawConfig } from './parse';
import { MODELED_KEYS } from './schema';

const KNOWN_KEYS: readonly string[] = [...MODELED_KEYS, ...Object.keys(OTHER_NEOX_KEYS)];
const KNOWN = new Set(KNOWN_KEYS);

export function isKnownKey(key: string): boolean {
  return KNOWN.has(key);
}

/** The closest known key when it is near enough to be a plausible typo. */
export function suggestKey(key: string): string | null {
  const best = closest(key, KNOWN_KEYS as string[]);
  return distance(key, best) <= Math.max(2, Math.floor(key.length / 4)) ? best : null;
}

export function unknownKeyIssues(raw: RawConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!isMapping(raw.data)) return issues; // reported by mergeConfigs
  for (const key of Object.keys(raw.data)) {
    const canonical = canonicalKey(key);
    if (isKnownKey(canonical)) continue;
    const hint = suggestKey(canonical);
    issues.push({
      keys: [canonical],
      message: `unknown key "${key}" in ${raw.file}${hint ? ` (did you mean "${hint}"?)` : ''}`,
    });
  }
  return issues;
}
