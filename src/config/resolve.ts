// In-memory config resolution (no filesystem, so the browser and the coordinator use it):
// merge → unknown keys → per-key checks → derived values → cross-field rules → warnings.
// Every problem found on the way is collected into one ConfigError.

import { deriveBatch, type Batch } from './batch';
import { deriveValues, ready, userBatch, type DeriveContext } from './derive';
import { ConfigError, inFiles, type ConfigIssue } from './errors';
import { checkFields } from './fields-check';
import { mergeConfigs } from './merge';
import type { RawConfig } from './parse';
import { RULES } from './rules';
import type { NeoXConfig } from './schema';
import { unknownKeyIssues } from './unknown';
import { collectWarnings } from './warnings';

export interface ResolvedConfig {
  config: NeoXConfig;
  warnings: string[];
  /** the file (or "overrides") that set each key; keys left at their default are absent */
  sources: Record<string, string>;
}

function ruleIssues(ctx: DeriveContext): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const rule of RULES) {
    if (!ready(ctx, ...rule.keys)) continue;
    const broken = rule.check(ctx.values);
    if (broken)
      issues.push({
        keys: rule.keys,
        message: inFiles(
          rule.keys.map((k) => ctx.sources[k]),
          broken,
        ),
      });
  }
  return issues;
}

/** Merges config mappings in order (later wins), validates them and fills NeoX's defaults. */
export function resolveConfig(rawObjects: readonly RawConfig[]): ResolvedConfig {
  const merged = mergeConfigs(rawObjects);
  const issues: ConfigIssue[] = [...merged.issues, ...rawObjects.flatMap(unknownKeyIssues)];
  const fields = checkFields(merged.data, merged.sources);
  issues.push(...fields.issues);

  const ctx: DeriveContext = {
    given: merged.data,
    values: { ...fields.values },
    bad: fields.bad,
    sources: merged.sources,
    issues: [],
    warnings: [],
  };
  deriveValues(ctx);
  issues.push(...ctx.issues, ...ruleIssues(ctx));
  if (issues.length) throw new ConfigError(issues);

  const config = ctx.values as NeoXConfig;
  const warnings = [...ctx.warnings, ...collectWarnings(merged.data, ctx.values, merged.sources)];
  return { config, warnings, sources: merged.sources };
}

/**
 * The batch triplet for a data-parallel size known only at run time (e.g. the number of
 * tabs), from the values the user gave rather than the ones derived for global_num_gpus.
 */
export function batchForDataParallel(resolved: ResolvedConfig, dp: number): Batch {
  return deriveBatch(userBatch(resolved.config, resolved.sources), dp);
}
