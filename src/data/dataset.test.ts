import { describe, expect, it } from 'vitest';
import { parseSplit, sampleIds, splitRanges, toMicroBatch, tokensInMemory, WindowDataset } from './dataset';
import { charLevelTokenizer, getTokenizer, gpt2BpeTokenizer } from './tokenizer';

describe('split', () => {
  it('parses NeoX split strings and rejects bad ones', () => {
    expect(parseSplit('969,30,1')).toEqual([969, 30, 1]);
    expect(parseSplit('1')).toEqual([1, 0, 0]);
    expect(() => parseSplit('a,b')).toThrow(/split "a,b"/);
    expect(() => parseSplit('0,0,0')).toThrow(/split/);
  });
  it('cuts the token range proportionally', () => {
    expect(splitRanges(1000, [8, 1, 1])).toEqual({ train: [0, 800], valid: [800, 900], test: [900, 1000] });
  });
});

describe('WindowDataset', () => {
  const tokens = tokensInMemory(Int32Array.from({ length: 101 }, (_, i) => i));
  const batch = async (ds: WindowDataset, ids: number[]) => toMicroBatch(await ds.samples(ids), ds.T);
  it('targets are inputs shifted by one, windows do not overlap, order is a seeded permutation', async () => {
    const ds = new WindowDataset(tokens, [0, 101], 10, 1, 'train');
    expect(ds.numSamples).toBe(10);
    const b = await batch(ds, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const starts = new Set<number>();
    for (let r = 0; r < 10; r++) {
      starts.add(b.tokens[r * 10]);
      for (let t = 0; t < 10; t++) expect(b.targets[r * 10 + t]).toBe(b.tokens[r * 10 + t] + 1);
    }
    expect([...starts].sort((x, y) => x - y)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    expect((await batch(new WindowDataset(tokens, [0, 101], 10, 1, 'train'), [3])).tokens).toEqual(
      (await batch(ds, [3])).tokens,
    );
    expect((await batch(new WindowDataset(tokens, [0, 101], 10, 2, 'train'), [0, 1, 2])).tokens).not.toEqual(
      (await batch(ds, [0, 1, 2])).tokens,
    );
  });
  it('names the split when it is too small', async () => {
    await expect(new WindowDataset(tokens, [0, 5], 10, 1, 'valid').samples([0])).rejects.toThrow(
      /valid split has fewer than seq_length \+ 1 = 11 tokens/,
    );
  });
  it('data-parallel ranks take disjoint slices of the global batch', () => {
    const all = [0, 1].flatMap((dp) => [0, 1].flatMap((m) => sampleIds(3, m, 2, 2, dp, 2)));
    expect(new Set(all).size).toBe(8);
    expect(Math.min(...all)).toBe(24);
  });
});

describe('tokenizers', () => {
  it('GPT-2 BPE round-trips and matches known GPT-2 ids', () => {
    expect(gpt2BpeTokenizer.encode('Hello world')).toEqual([15496, 995]);
    expect(gpt2BpeTokenizer.decode(gpt2BpeTokenizer.encode('Call me Ishmael.'))).toBe('Call me Ishmael.');
    // as NeoX's GPT2Tokenizer: the end-of-text marker inside a document is plain text, not id 50256
    expect(gpt2BpeTokenizer.encode('a<|endoftext|>b')).toEqual([64, 27, 91, 437, 1659, 5239, 91, 29, 65]);
  });
  it('char-level is UTF-8 bytes', () => {
    expect(charLevelTokenizer.encode('aé')).toEqual([97, 195, 169]);
    expect(charLevelTokenizer.decode([97, 195, 169])).toBe('aé');
  });
  it('unknown tokenizer names the choices', () => {
    expect(() => getTokenizer('HFTokenizer')).toThrow(
      /tokenizer_type "HFTokenizer" is not supported; choose one of CharLevelTokenizer, GPT2BPETokenizer/,
    );
  });
});
