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

export class WindowDataset {
  readonly numSamples: number;
  private readonly order: Int32Array;

  constructor(
    private readonly tokens: Int32Array,
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

  /** Fills rows of (inputs, targets) for the given consecutive global sample ids (wrapping over epochs). */
  batch(sampleIds: readonly number[]): { tokens: Int32Array; targets: Int32Array; firstSample: number } {
    if (this.numSamples === 0)
      throw new Error(
        `the ${this.name} split has fewer than seq_length + 1 = ${this.T + 1} tokens; use a larger corpus or a smaller seq_length`,
      );
    sampleIds.forEach((id, i) => {
      if (id !== sampleIds[0] + i)
        throw new Error(`${this.name} batch: sample ids must be consecutive, got ${sampleIds}`);
    });
    const T = this.T;
    const tokens = new Int32Array(sampleIds.length * T),
      targets = new Int32Array(sampleIds.length * T);
    sampleIds.forEach((id, row) => {
      const start = this.range[0] + this.order[id % this.numSamples] * T;
      for (let t = 0; t < T; t++) {
        tokens[row * T + t] = this.tokens[start + t];
        targets[row * T + t] = this.tokens[start + t + 1];
      }
    });
    return { tokens, targets, firstSample: sampleIds[0] ?? 0 };
  }
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
