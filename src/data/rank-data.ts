// What a rank trains on, from the config's data keys and a DataSource: the tokenizer and a
// train/valid/test split each answering `batch(sampleIds)`. Indexed datasets draw NeoX's
// samples (sample id i of a split is NeoX's dataset[i] for the same config and seed); text
// (a text data_path, or the default corpus) is cut into windows as tabtron always has.
// Sample ids are global (src/data/dataset.ts sampleIds), so a data-parallel replica reads
// only its own samples.

import type { MicroBatch } from '../train/trainer';
import { normalizedWeightsAndSamples, weightsByNumDocs } from './blending';
import { dataPlan, splitSampleCounts, SPLITS, type DataConfig } from './data-config';
import type { DataFiles, DataSource } from './data-files';
import {
  parseSplit,
  splitRanges,
  toMicroBatch,
  tokensInMemory,
  WindowDataset,
  type ReadTokens,
  type SplitName,
} from './dataset';
import { BlendedDataset, GptDataset, readSamples, type SampleSet } from './gpt-dataset';
import { httpDataFiles } from './http-files';
import { IndexedDataset } from './indexed-dataset';
import { splitDocuments } from './neox-indices';
import { getTokenizer, type Tokenizer } from './tokenizer';

export interface SplitData {
  readonly name: SplitName;
  /** samples before ids wrap around (NeoX's len(dataset) for indexed data) */
  readonly numSamples: number;
  batch(sampleIds: readonly number[]): Promise<MicroBatch>;
}

export interface RankData {
  tokenizer: Tokenizer;
  /** tokens of every dataset read (for the start event) */
  numTokens: number;
  /** e.g. "indexed: data/x_text_document (3 files)" */
  description: string;
  train: SplitData;
  valid: SplitData;
  test: SplitData;
}

export interface RankDataOptions {
  /** sequences per optimizer step over all replicas (default: the config's train_batch_size, as NeoX counts) */
  globalBatch?: number;
}

function checkVocab(rows: readonly Int32Array[], tokenizer: Tokenizer, where: (row: number) => string): void {
  rows.forEach((row, r) => {
    for (let t = 0; t < row.length; t++)
      if (row[t] < 0 || row[t] >= tokenizer.vocabSize)
        throw new Error(
          `${where(r)}: token id ${row[t]} is outside ${tokenizer.name}'s ${tokenizer.vocabSize} ids (was the data tokenized with another tokenizer_type?)`,
        );
  });
}

/** A micro-batch's sample ids are consecutive (its first one seeds dropout for all its rows). */
function checkConsecutive(ids: readonly number[], name: SplitName): void {
  ids.forEach((id, i) => {
    if (id !== ids[0] + i) throw new Error(`${name} batch: sample ids must be consecutive, got ${ids.join(', ')}`);
  });
}

function textSplits(c: DataConfig, tokenizer: Tokenizer, read: ReadTokens, numTokens: number, what: string) {
  const ranges = splitRanges(numTokens, parseSplit(c.split));
  const split = (name: SplitName, salt: number): SplitData => {
    const ds = new WindowDataset(read, ranges[name], c.seq_length, c.seed + salt, name);
    return {
      name,
      numSamples: ds.numSamples,
      async batch(ids) {
        checkConsecutive(ids, name);
        const rows = await ds.samples(ids);
        checkVocab(rows, tokenizer, (r) => `${what}, ${name} sample ${ids[r]}`);
        return toMicroBatch(rows, c.seq_length, ids[0]);
      },
    };
  };
  return { train: split('train', 0), valid: split('valid', 1), test: split('test', 2) };
}

function sampleSplit(name: SplitName, set: SampleSet | null, c: DataConfig, tokenizer: Tokenizer, why: string) {
  return {
    name,
    numSamples: set?.length ?? 0,
    async batch(ids: readonly number[]): Promise<MicroBatch> {
      if (!set) throw new Error(`the ${name} split has no documents: ${why}`);
      checkConsecutive(ids, name);
      const rows = await readSamples(set, ids, c.seq_length);
      checkVocab(rows, tokenizer, (r) => `${set.name} sample ${ids[r]}`);
      return toMicroBatch(rows, c.seq_length, ids[0]);
    },
  };
}

async function openIndexed(files: DataFiles, path: string, cache: Map<string, Promise<IndexedDataset>>) {
  let ds = cache.get(path);
  if (!ds) cache.set(path, (ds = files.indexed(path).then((f) => IndexedDataset.open(path, f, files))));
  return ds;
}

export async function openRankData(c: DataConfig, source: DataSource, o: RankDataOptions = {}): Promise<RankData> {
  const tokenizer = getTokenizer(c.tokenizer_type);
  const fromText = (text: string, what: string): RankData => {
    const tokens = Int32Array.from(tokenizer.encode(text));
    const splits = textSplits(c, tokenizer, tokensInMemory(tokens), tokens.length, what);
    return { tokenizer, numTokens: tokens.length, description: what, ...splits };
  };
  if (source.kind === 'text') return fromText(source.text, 'text');
  const plan = dataPlan(c);
  if (plan.mode === 'default') {
    const { defaultCorpus, DEFAULT_CORPUS_NAME } = await import('./corpus');
    return fromText(await defaultCorpus(), DEFAULT_CORPUS_NAME);
  }
  const files = source.kind === 'files' ? source.files : httpDataFiles(source);
  if (plan.mode === 'data_path' && (await files.kind(plan.path)) === 'text') {
    const t = await files.textTokens(plan.path, tokenizer);
    const splits = textSplits(c, tokenizer, t.read, t.numTokens, `data_path ${plan.path}`);
    return { tokenizer, numTokens: t.numTokens, description: `text: ${plan.path}`, ...splits };
  }
  const globalBatch = o.globalBatch ?? c.train_batch_size;
  if (!globalBatch)
    throw new Error('the data needs the global batch size (train_batch_size) to count samples as NeoX does');
  const counts = splitSampleCounts(c, globalBatch);
  const sets = await openSampleSets(c, files, counts);
  const [train, valid, test] = SPLITS.map((name) => sampleSplit(name, sets[name], c, tokenizer, sets.why));
  return { tokenizer, numTokens: sets.numTokens, description: sets.description, train, valid, test };
}

export interface SampleSets extends Record<SplitName, SampleSet | null> {
  numTokens: number;
  description: string;
  /** why a split has no samples */
  why: string;
}

/** NeoX's train/valid/test datasets for indexed data (`data_path` split by `split`, or blends). */
export async function openSampleSets(
  c: DataConfig,
  files: DataFiles,
  counts: Record<SplitName, number>,
): Promise<SampleSets> {
  const plan = dataPlan(c);
  if (plan.mode === 'default') throw new Error('no data paths in the config');
  const cache = new Map<string, Promise<IndexedDataset>>();
  if (plan.mode === 'data_path') {
    const path = plan.path;
    const data = await openIndexed(files, path, cache);
    const bounds = splitDocuments(c.split, data.sequences);
    const [train, valid, test] = SPLITS.map((name, k) =>
      bounds[k + 1] > bounds[k]
        ? new GptDataset(`${path} (${name})`, data, bounds[k], bounds[k + 1], counts[name], c.seq_length, c.seed)
        : null,
    );
    const why = `split ${JSON.stringify(c.split)} of data_path ${path}'s ${data.sequences} documents gives it none`;
    return { train, valid, test, numTokens: data.tokens, description: `indexed: ${path}`, why };
  }
  const sets = {} as Record<SplitName, SampleSet>;
  for (const name of SPLITS) {
    const { paths, weights: given } = plan.splits[name];
    const datasets = await Promise.all(paths.map((p) => openIndexed(files, p, cache)));
    const weights = c.weight_by_num_documents
      ? weightsByNumDocs(
          datasets.map((d) => d.sequences),
          c.weighted_sampler_alpha ?? 1.0,
        )
      : given;
    const w = normalizedWeightsAndSamples(weights, counts[name]);
    const parts = datasets.map(
      (d, i) => new GptDataset(`${paths[i]} (${name}_${i})`, d, 0, d.sequences, w.samples[i], c.seq_length, c.seed),
    );
    sets[name] = new BlendedDataset(`${name}_data_paths`, parts, w.weights);
  }
  const all = await Promise.all([...cache.values()]);
  return {
    ...sets,
    numTokens: all.reduce((a, d) => a + d.tokens, 0),
    description: `indexed: ${all.map((d) => d.prefix).join(', ')}`,
    why: '',
  };
}
