// Zod builders for config fields whose error text reads as a rule: the key and the
// offending value are added by the formatter (resolve.ts), giving
// `num_layers must be an integer, got "twelve"`.

import { closest, distance } from 'fastest-levenshtein';
import { z } from 'zod';

/** Error text for every failure of one field; a missing required field says so instead. */
function says(text: string) {
  return { error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : text) };
}

export const bool = () => z.boolean(says('must be true or false'));

export const str = () => z.string(says('must be a string'));

export const num = () => z.number(says('must be a number')).finite(says('must be a finite number'));

export function int() {
  return z.number(says('must be an integer')).int(says('must be an integer'));
}

export function posInt() {
  return int().min(1, says('must be a positive integer'));
}

export function nonNegInt() {
  return int().min(0, says('must be an integer >= 0'));
}

export function intBetween(lo: number, hi: number) {
  const text = `must be an integer from ${lo} to ${hi}`;
  return int().min(lo, says(text)).max(hi, says(text));
}

export function posNum() {
  return num().gt(0, says('must be a positive number'));
}

export function nonNegNum() {
  return num().min(0, says('must be a number >= 0'));
}

/** A number in an interval, e.g. `inRange(0, 1, '[)')` for a probability that may not be 1. */
export function inRange(lo: number, hi: number, ends: '[]' | '[)' | '(]' | '()') {
  const text = `must be in ${ends[0]}${lo}, ${hi}${ends[1]}`;
  let field = num();
  field = ends[0] === '[' ? field.min(lo, says(text)) : field.gt(lo, says(text));
  field = ends[1] === ']' ? field.max(hi, says(text)) : field.lt(hi, says(text));
  return field;
}

export function oneOf<const T extends readonly [string, ...string[]]>(choices: T) {
  return z.enum(choices, says(`must be one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`));
}

/** A YAML mapping whose extra keys are kept (DeepSpeed-style dicts such as `fp16`). */
export function dict<S extends z.ZodRawShape>(shape: S) {
  return z.looseObject(shape, says('must be a mapping of keys to values'));
}

/** A YAML mapping of exactly these keys: another key is an error naming it (and the nearest known one). */
export function strictDict<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue: { code?: string; input?: unknown; keys?: string[] }) => {
      if (issue.code !== 'unrecognized_keys')
        return issue.input === undefined ? 'is required' : 'must be a mapping of keys to values';
      const names = (issue.keys ?? []).map((k) => {
        const near = closest(k, known);
        return `"${k}"${distance(k, near) <= Math.max(2, Math.floor(k.length / 4)) ? ` (did you mean "${near}"?)` : ''}`;
      });
      return `has unknown key${names.length > 1 ? 's' : ''} ${names.join(', ')}; its keys are ${known.join(', ')}`;
    },
  });
}
