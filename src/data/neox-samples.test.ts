// NeoX's samples, computed by tools/data/neox_indices.py (numpy, a reimplementation of NeoX's
// data pipeline) over the fixtures tools/data/write_fixtures.py wrote, against openRankData.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { nodeDataFiles } from '../node/data-files';
import { splitSampleCounts, type DataConfig } from './data-config';
import { readSamples, type BlendedDataset, type GptDataset } from './gpt-dataset';
import { NumpyRandomState } from './numpy-random';
import { pythonRound, splitDocuments } from './neox-indices';
import { openRankData, openSampleSets } from './rank-data';

const FIXTURES = new URL('../../tools/data/fixtures/', import.meta.url).pathname;

interface GptExpect {
  length: number;
  epochs: number;
  doc_idx: number[];
  sample_idx: number[];
  shuffle_idx: number[];
  samples: number[][];
}
interface BlendExpect {
  length: number;
  dataset_index: number[];
  dataset_sample_index: number[];
  parts: GptExpect[];
  samples: number[][];
}
interface Case {
  name: string;
  config: Record<string, unknown> & { train_batch_size: number };
  bounds?: number[];
  train: GptExpect | BlendExpect | null;
  valid: GptExpect | BlendExpect | null;
  test: GptExpect | BlendExpect | null;
}

const cases: Case[] = JSON.parse(readFileSync(`${FIXTURES}neox_indices.json`, 'utf8'));

describe('numpy RandomState', () => {
  it('draws MT19937 as numpy does and shuffles like RandomState.shuffle', () => {
    const r = new NumpyRandomState(1234);
    expect([r.nextUint32(), r.nextUint32()]).toEqual([822569775, 2137449171]); // np.random.RandomState(1234)
    const a = Int32Array.from({ length: 10 }, (_, i) => i);
    new NumpyRandomState(5).shuffle(a);
    expect([...a]).toEqual([9, 5, 2, 4, 7, 1, 0, 8, 6, 3]);
  });
  it('rounds like Python (ties to even) when splitting documents', () => {
    expect([0.5, 1.5, 2.5, 24.5, 2.4999].map(pythonRound)).toEqual([0, 2, 2, 24, 2]);
    expect(splitDocuments('1,1', 49)).toEqual([0, 25, 49, 49]);
  });
});

const files = nodeDataFiles(FIXTURES);

function expectIndices(got: GptDataset, want: GptExpect, what: string) {
  expect(got.indices.epochs, `${what} epochs`).toBe(want.epochs);
  expect([...got.indices.docIdx], `${what} doc_idx`).toEqual(want.doc_idx);
  expect([...got.indices.sampleIdx], `${what} sample_idx`).toEqual(want.sample_idx);
  expect([...got.indices.shuffleIdx], `${what} shuffle_idx`).toEqual(want.shuffle_idx);
  expect(got.length, `${what} length`).toBe(want.length);
}

describe.each(cases)('NeoX samples: $name', (k) => {
  const config = {
    tokenizer_type: 'GPT2BPETokenizer',
    split: '969,30,1',
    ...k.config,
  } as unknown as DataConfig;
  const counts = splitSampleCounts(config, k.config.train_batch_size);

  it('doc_idx, sample_idx, shuffle_idx and the blending indices equal numpy’s', async () => {
    const sets = await openSampleSets(config, files, counts);
    if (k.bounds) expect(splitDocuments(String(k.config.split), k.bounds[3])).toEqual(k.bounds);
    for (const name of ['train', 'valid', 'test'] as const) {
      const want = k[name];
      const got = sets[name];
      if (want === null) {
        expect(got, name).toBeNull();
        continue;
      }
      if ('parts' in want) {
        const blend = got as BlendedDataset;
        expect(blend.length, `${name} length`).toBe(want.length);
        expect([...blend.blend.dataset.subarray(0, want.dataset_index.length)]).toEqual(want.dataset_index);
        expect([...blend.blend.sample.subarray(0, want.dataset_sample_index.length)]).toEqual(
          want.dataset_sample_index,
        );
        want.parts.forEach((p, i) => expectIndices(blend.parts[i], p, `${name}_${i}`));
      } else expectIndices(got as GptDataset, want, name);
      const rows = await readSamples(
        got!,
        Array.from({ length: want.samples.length }, (_, i) => i),
        config.seq_length,
      );
      expect(rows.map((r) => [...r])).toEqual(want.samples);
    }
  });

  it.skipIf(k.config.data_path === 'wide_text_document')(
    'a rank reads the same samples as micro-batches (inputs, and targets shifted by one)',
    async () => {
      const data = await openRankData(config, { kind: 'files', files }, { globalBatch: k.config.train_batch_size });
      for (const name of ['train', 'valid', 'test'] as const) {
        const want = k[name];
        if (want === null) {
          expect(data[name].numSamples).toBe(0);
          await expect(data[name].batch([0])).rejects.toThrow(new RegExp(`the ${name} split has no documents`));
          continue;
        }
        expect(data[name].numSamples).toBe(want.length);
        const ids = [3, 4, 5];
        const b = await data[name].batch(ids);
        const T = config.seq_length;
        ids.forEach((id, r) => {
          expect([...b.tokens.subarray(r * T, (r + 1) * T)]).toEqual(want.samples[id].slice(0, T));
          expect([...b.targets.subarray(r * T, (r + 1) * T)]).toEqual(want.samples[id].slice(1));
        });
      }
    },
  );
});

describe('NeoX samples past the end', () => {
  it('wrap as NeoX does: a GPT2Dataset index modulo its length, a blend modulo its size', async () => {
    const k = cases.find((c) => c.name === 'blend 3:1')!;
    const config = { tokenizer_type: 'GPT2BPETokenizer', split: '1', ...k.config } as unknown as DataConfig;
    const sets = await openSampleSets(config, files, splitSampleCounts(config, 4));
    const blend = sets.train as BlendedDataset;
    const part = blend.parts[0];
    const [beyond] = await readSamples(part, [part.indices.shuffleIdx.length + 2], 16);
    const [wrapped] = await readSamples(part, [(part.indices.shuffleIdx.length + 2) % part.length], 16);
    expect([...beyond]).toEqual([...wrapped]);
    const [b1, b2] = await readSamples(blend, [blend.length + 1, 1], 16);
    expect([...b1]).toEqual([...b2]);
  });
});
