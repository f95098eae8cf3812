// What NeoX's GPT2Dataset and BlendableDataset return for index i, over indexed datasets read
// through byte sources: sample i is seq_length + 1 tokens gathered from the pieces its index
// mappings name (padded with 0 or cut, as NeoX does), and a micro-batch is the samples' tokens
// without their last token (inputs) and without their first (targets).

import { buildBlendingIndices, type BlendIndices } from './blending';
import type { IndexedDataset } from './indexed-dataset';
import { buildGptIndices, gptLength, samplePieces, type GptIndices, type Piece } from './neox-indices';

export interface SampleSet {
  readonly name: string;
  /** NeoX's len(dataset) */
  readonly length: number;
  /** The dataset and pieces sample i is made of. */
  locate(i: number): { data: IndexedDataset; pieces: Piece[] };
}

/** NeoX's GPT2Dataset ("packed") over documents [first, end) of one indexed dataset. */
export class GptDataset implements SampleSet {
  readonly indices: GptIndices;
  readonly length: number;

  constructor(
    readonly name: string,
    readonly data: IndexedDataset,
    first: number,
    end: number,
    numSamples: number,
    seqLength: number,
    seed: number,
  ) {
    this.indices = buildGptIndices(data.sizes, first, end, numSamples, seqLength, seed);
    this.length = gptLength(this.indices);
  }

  locate(i: number): { data: IndexedDataset; pieces: Piece[] } {
    return { data: this.data, pieces: samplePieces(this.indices, this.data.sizes, i) };
  }
}

/** NeoX's BlendableDataset. */
export class BlendedDataset implements SampleSet {
  readonly length: number;
  readonly blend: BlendIndices;

  constructor(
    readonly name: string,
    readonly parts: readonly GptDataset[],
    weights: readonly number[],
  ) {
    this.length = parts.reduce((a, p) => a + p.length, 0);
    this.blend = buildBlendingIndices(weights, this.length);
  }

  locate(i: number): { data: IndexedDataset; pieces: Piece[] } {
    if (i >= this.length) i %= this.length;
    return this.parts[this.blend.dataset[i]].locate(this.blend.sample[i]);
  }
}

/** Each sample's seq_length + 1 tokens, reading every dataset's pieces in one request. */
export async function readSamples(set: SampleSet, ids: readonly number[], seqLength: number): Promise<Int32Array[]> {
  const located = ids.map((i) => set.locate(i));
  const byData = new Map<IndexedDataset, Piece[]>();
  for (const l of located) {
    const list = byData.get(l.data) ?? byData.set(l.data, []).get(l.data)!;
    list.push(...l.pieces);
  }
  const read = new Map<IndexedDataset, (Int32Array | Float64Array)[]>();
  await Promise.all([...byData].map(async ([data, pieces]) => read.set(data, await data.read(pieces))));
  const cursor = new Map<IndexedDataset, number>();
  return located.map(({ data, pieces }) => {
    const row = new Int32Array(seqLength + 1); // zero padding, as NeoX pads a short sample
    let at = cursor.get(data) ?? 0;
    let filled = 0;
    for (let p = 0; p < pieces.length; p++) {
      const tokens = read.get(data)![at++];
      const take = Math.min(tokens.length, row.length - filled);
      for (let t = 0; t < take; t++) row[filled + t] = tokens[t];
      filled += take;
    }
    cursor.set(data, at);
    return row;
  });
}
