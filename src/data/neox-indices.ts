// The index mappings of NeoX's GPT2Dataset (megatron/data/gpt2_dataset.py, "packed"), as pure
// functions of the documents' token counts, the sample count asked for, seq_length and seed:
//
//   doc_idx     every document of the split once per epoch, all epochs shuffled together
//   sample_idx  (samples + 1) × 2: where sample i starts, as (position in doc_idx, token offset);
//               sample i covers tokens from row i to row i + 1 inclusive (seq_length + 1 tokens,
//               the last one shared with the next sample) — NeoX's C++ build_sample_idx
//   shuffle_idx a permutation of the samples
//
// One numpy RandomState(seed) draws doc_idx's shuffle, then shuffle_idx's, as NeoX does. The
// document split of `data_path` (get_train_valid_test_split_) rounds as Python does (half to even).

import { NumpyRandomState } from './numpy-random';

/** Python 3's round() of a float: nearest integer, ties to even. */
export function pythonRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** Document boundaries [0, a, b, size] of the train, validation and test splits of `size` documents. */
export function splitDocuments(split: string, size: number): [number, number, number, number] {
  const sep = split.includes(',') ? ',' : split.includes('/') ? '/' : null;
  const parts = (sep ? split.split(sep) : [split]).map((s) => Number(s.trim()));
  while (parts.length < 3) parts.push(0);
  const weights = parts.slice(0, 3);
  if (weights.some((w) => !Number.isFinite(w) || w < 0)) throw new Error(`split ${JSON.stringify(split)} is malformed`);
  let sum = 0;
  for (const w of weights) sum += w;
  if (!(sum > 0)) throw new Error(`split ${JSON.stringify(split)} must have a positive sum`);
  const index = [0];
  weights.forEach((w, i) => index.push(index[i] + pythonRound((w / sum) * size)));
  const diff = index[3] - size;
  for (let i = 1; i < 4; i++) index[i] -= diff;
  return index as [number, number, number, number];
}

/** Epochs over `tokensPerEpoch` tokens needed for `numSamples` samples of seq_length + 1 tokens. */
export function numEpochs(tokensPerEpoch: number, seqLength: number, numSamples: number): number {
  if (tokensPerEpoch < 2) throw new Error(`a split needs at least 2 tokens, it has ${tokensPerEpoch}`);
  let epochs = 0;
  let total = 0;
  for (;;) {
    epochs++;
    total += tokensPerEpoch;
    if (Math.floor((total - 1) / seqLength) >= numSamples) return epochs;
  }
}

/** doc_idx: documents [first, end) once per epoch, shuffled across all epochs. */
export function buildDocIdx(first: number, end: number, epochs: number, rng: NumpyRandomState): Int32Array {
  const n = end - first;
  const docIdx = new Int32Array(n * epochs);
  for (let e = 0; e < epochs; e++) for (let d = 0; d < n; d++) docIdx[e * n + d] = first + d;
  rng.shuffle(docIdx);
  return docIdx;
}

/** sample_idx as NeoX's C++ helper builds it: rows (doc_idx position, offset), flattened. */
export function buildSampleIdx(
  sizes: Int32Array,
  docIdx: Int32Array,
  seqLength: number,
  epochs: number,
  tokensPerEpoch: number,
): Int32Array | Float64Array {
  const numSamples = Math.floor((epochs * tokensPerEpoch - 1) / seqLength);
  const rows = numSamples + 1;
  const out = 2 * rows < 0x7fffffff ? new Int32Array(2 * rows) : new Float64Array(2 * rows);
  let docPos = 0;
  let offset = 0;
  out[0] = 0;
  out[1] = 0;
  for (let s = 1; s <= numSamples; s++) {
    let remaining = seqLength + 1;
    while (remaining !== 0) {
      if (docPos >= docIdx.length) throw new Error(`sample ${s} runs past the end of doc_idx (${docIdx.length})`);
      const length = sizes[docIdx[docPos]] - offset;
      remaining -= length;
      if (remaining <= 0) {
        offset += remaining + length - 1;
        remaining = 0;
      } else {
        docPos++;
        offset = 0;
      }
    }
    out[2 * s] = docPos;
    out[2 * s + 1] = offset;
  }
  return out;
}

/** shuffle_idx: [0, size) shuffled. */
export function buildShuffleIdx(size: number, rng: NumpyRandomState): Uint32Array {
  const idx = new Uint32Array(size);
  for (let i = 0; i < size; i++) idx[i] = i;
  rng.shuffle(idx);
  return idx;
}

export interface GptIndices {
  epochs: number;
  tokensPerEpoch: number;
  docIdx: Int32Array;
  sampleIdx: Int32Array | Float64Array;
  shuffleIdx: Uint32Array;
}

/** All three mappings for documents [first, end) of a dataset whose sequence lengths are `sizes`. */
export function buildGptIndices(
  sizes: Int32Array,
  first: number,
  end: number,
  numSamples: number,
  seqLength: number,
  seed: number,
): GptIndices {
  let tokensPerEpoch = 0;
  for (let d = first; d < end; d++) tokensPerEpoch += sizes[d];
  const epochs = numEpochs(tokensPerEpoch, seqLength, numSamples);
  const rng = new NumpyRandomState(seed);
  const docIdx = buildDocIdx(first, end, epochs, rng);
  const sampleIdx = buildSampleIdx(sizes, docIdx, seqLength, epochs, tokensPerEpoch);
  const shuffleIdx = buildShuffleIdx(sampleIdx.length / 2 - 1, rng);
  return { epochs, tokensPerEpoch, docIdx, sampleIdx, shuffleIdx };
}

/** A run of tokens in one sequence of the indexed dataset. */
export interface Piece {
  seq: number;
  offset: number;
  count: number;
}

/** NeoX's len(GPT2Dataset): one less than the samples built. */
export const gptLength = (ix: GptIndices): number => ix.shuffleIdx.length - 1;

/** The pieces GPT2Dataset[idx] concatenates (before padding/truncating to seq_length + 1), with
 *  NeoX's fallback for an index past the end (idx modulo the dataset's length). */
export function samplePieces(ix: GptIndices, sizes: Int32Array, idx: number): Piece[] {
  if (idx >= ix.shuffleIdx.length) idx %= gptLength(ix);
  const i = ix.shuffleIdx[idx];
  const s = ix.sampleIdx;
  const [docF, offF, docL, offL] = [s[2 * i], s[2 * i + 1], s[2 * i + 2], s[2 * i + 3]];
  const seq = (pos: number) => ix.docIdx[pos];
  if (docF === docL) return [{ seq: seq(docF), offset: offF, count: offL - offF + 1 }];
  const pieces: Piece[] = [{ seq: seq(docF), offset: offF, count: sizes[seq(docF)] - offF }];
  for (let p = docF + 1; p < docL; p++) pieces.push({ seq: seq(p), offset: 0, count: sizes[seq(p)] });
  pieces.push({ seq: seq(docL), offset: 0, count: offL + 1 });
  return pieces;
}
