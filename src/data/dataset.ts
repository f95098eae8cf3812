// A tokenized corpus split into train/valid/test (NeoX `split`, e.g. "969,30,1") and cut
// into non-overlapping windows of seq_length + 1 tokens, visited in a seeded shuffled order.
// Sample ids are global, so data-parallel ranks can each take their slice of a batch.

import { Rng } from '../util/rng';

export type SplitName = 'train' | 'valid' | 'test';

export function parseSplit(split: string): [number, number, number] {
  const parts = split.split(',').map((s) => Number(s.trim()));
  while (parts.length < 3) parts.push(0);
  if (parts.length > 3 || parts.some((p) => !Number.isFinite(p) || p < 0) || parts.reduce((a, b) => a + b, 0) <= 0) {
    throw new Error(`split "${split}" must be up to three non-negative weights like "969,30,1"`);
  }
  return parts as [number, number, number];
}

/** Token ranges [start, end) of each split, proportional to the weights. */
export function splitRanges(numTokens: number, weights: [number, number, number]): Record<SplitName, [number, number]> {
  const total = weights[0] + weights[1] + weights[2];
  const a = Math.round((numTokens * weights[0]) / total);
  const b = a + Math.round((numTokens * weights[1]) / total);
  return { train: [0, a], valid: [a, b], test: [b, numTokens] };
}

/** Tokens [start, start + count) of a tokenized text, wherever it is held. */
export type ReadTokens = (start: number, count: number) => Promise<Int32Array>;

export const tokensInMemory =
  (tokens: Int32Array): ReadTokens =>
  async (start, count) =>
    tokens.subarray(start, start + count);

export class WindowDataset {
  readonly numSamples: number;
  private readonly order: Int32Array;

  constructor(
    private readonly read: ReadTokens,
    private readonly range: [number, number],
    readonly T: number,
    seed: number,
    readonly name: string,
  ) {
    this.numSamples = Math.max(0, Math.floor((range[1] - range[0] - 1) / T));
    this.order = new Int32Array(this.numSamples);
    for (let i = 0; i < this.numSamples; i++) this.order[i] = i;
    const rng = new Rng(seed);
    for (let i = this.numSamples - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = this.order[i];
      this.order[i] = this.order[j];
      this.order[j] = t;
    }
  }

  /** Each sample's T + 1 tokens, for the given global sample ids (wrapping over epochs). */
  async samples(sampleIds: readonly number[]): Promise<Int32Array[]> {
    if (this.numSamples === 0)
      throw new Error(
        `the ${this.name} split has fewer than seq_length + 1 = ${this.T + 1} tokens; use a larger corpus or a smaller seq_length`,
      );
    return Promise.all(
      sampleIds.map((id) => this.read(this.range[0] + this.order[id % this.numSamples] * this.T, this.T + 1)),
    );
  }
}

/** Rows of seq_length + 1 tokens of samples firstSample, firstSample + 1, … → inputs (all but the
 *  last token) and targets (all but the first); firstSample seeds the micro-batch's dropout. */
export function toMicroBatch(
  rows: readonly Int32Array[],
  T: number,
  firstSample = 0,
): { tokens: Int32Array; targets: Int32Array; firstSample: number } {
  const tokens = new Int32Array(rows.length * T),
    targets = new Int32Array(rows.length * T);
  rows.forEach((row, r) => {
    tokens.set(row.subarray(0, T), r * T);
    targets.set(row.subarray(1, T + 1), r * T);
  });
  return { tokens, targets, firstSample };
}

/** Global sample ids of micro-batch `micro` of optimizer step `step` for data-parallel rank `dpRank`. */
export function sampleIds(
  step: number,
  micro: number,
  microBatch: number,
  gradAccum: number,
  dpRank = 0,
  dp = 1,
): number[] {
  const globalBatch = microBatch * gradAccum * dp;
  const first = step * globalBatch + (dpRank * gradAccum + micro) * microBatch;
  return Array.from({ length: microBatch }, (_, i) => first + i);
}
