// Checks each modeled key on its own against its zod schema (schema.ts), so that every
// bad key is reported, and the keys that passed can still feed the cross-field rules.

import type { z } from 'zod';
import { inFiles, showValue, type ConfigIssue } from './errors';
import { configShape, type ConfigInput, type ModeledKey } from './schema';

export interface FieldResult {
  /** parsed value (defaults applied) of every key that passed */
  values: Partial<ConfigInput>;
  /** keys that failed; rules reading them are skipped */
  bad: Set<string>;
  issues: ConfigIssue[];
}

/** `optimizer.params.betas[0]` */
export function formatPath(key: string, path: readonly PropertyKey[]): string {
  let out = key;
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return out;
}

function describe(key: string, issue: z.core.$ZodIssue): string {
  const where = formatPath(key, issue.path);
  if (issue.message === 'is required') return `${where} is required (NeoX has no default for it)`;
  if (issue.code === 'unrecognized_keys') return `${where} ${issue.message}`; // names the keys already
  return `${where} ${issue.message}, got ${showValue((issue as { input?: unknown }).input)}`;
}

export function checkFields(data: Record<string, unknown>, sources: Record<string, string>): FieldResult {
  const values: Record<string, unknown> = {};
  const bad = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const key of Object.keys(configShape) as ModeledKey[]) {
    const result = configShape[key].safeParse(data[key], { reportInput: true });
    if (result.success) {
      if (result.data !== undefined) values[key] = result.data;
      continue;
    }
    bad.add(key);
    for (const issue of result.error.issues) {
      issues.push({ keys: [formatPath(key, issue.path)], message: inFiles([sources[key]], describe(key, issue)) });
    }
  }
  return { values: values as Partial<ConfigInput>, bad, issues };
}
