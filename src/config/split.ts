// NeoX's `split`: "969,30,1" = proportions of train, validation and test data.
// As in Megatron, "/" also separates, missing parts are 0, and the parts are normalised.

export type SplitFractions = [train: number, valid: number, test: number];

const SHAPE = 'must be 1 to 3 comma-separated non-negative numbers with a positive train part, like "969,30,1"';

/** The rule `split` breaks, or null when it is well formed. */
export function splitProblem(split: string): string | null {
  const parts = split.includes(',') ? split.split(',') : split.split('/');
  if (parts.length > 3) return SHAPE;
  const values = parts.map((p) => (p.trim() === '' ? NaN : Number(p)));
  if (values.some((v) => !Number.isFinite(v) || v < 0)) return SHAPE;
  if (!(values[0] > 0)) return SHAPE;
  return null;
}

/** Normalised [train, valid, test] fractions; throws on a malformed split. */
export function parseSplit(split: string): SplitFractions {
  const problem = splitProblem(split);
  if (problem) throw new Error(`split ${problem}, got ${JSON.stringify(split)}`);
  const parts = (split.includes(',') ? split.split(',') : split.split('/')).map(Number);
  while (parts.length < 3) parts.push(0);
  const total = parts[0] + parts[1] + parts[2];
  return [parts[0] / total, parts[1] / total, parts[2] / total];
}
