import { encode } from 'gpt-tokenizer/encoding/r50k_base';
import { describe, expect, it } from 'vitest';
import { bytesToTokenString } from './byte-unicode';
import { recognizeVocab, tokenizerFiles, vocabOfFiles } from './tokenizer-files';

/** A plain byte-level BPE over tokenizer.json's own vocab and merges, as the `tokenizers` library applies them. */
function bpeEncode(tj: { model: { vocab: Record<string, number>; merges: string[] } }, text: string): number[] {
  const rank = new Map(tj.model.merges.map((m, i) => [m, i]));
  const split = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu; // GPT-2's pattern
  const out: number[] = [];
  for (const piece of text.match(split) ?? []) {
    let parts = [...bytesToTokenString(new TextEncoder().encode(piece))];
    for (;;) {
      let best = -1,
        bestRank = Infinity;
      for (let i = 0; i + 1 < parts.length; i++) {
        const r = rank.get(`${parts[i]} ${parts[i + 1]}`);
        if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
      }
      if (best < 0) break;
      parts = [...parts.slice(0, best), parts[best] + parts[best + 1], ...parts.slice(best + 2)];
    }
    out.push(...parts.map((p) => tj.model.vocab[p]));
  }
  return out;
}

describe('tokenizer files', () => {
  const gpt2 = tokenizerFiles('GPT2BPETokenizer', 1024);

  it("GPT-2: vocab.json and merges.txt in GPT-2's spelling (50257 tokens, 50000 merges)", () => {
    const vocab = JSON.parse(gpt2['vocab.json'] as string);
    expect(Object.keys(vocab)).toHaveLength(50257);
    expect(vocab['<|endoftext|>']).toBe(50256);
    expect(vocab['Ġthe']).toBe(262);
    expect(vocab['!']).toBe(0);
    const merges = (gpt2['merges.txt'] as string).trimEnd().split('\n');
    expect(merges[0]).toBe('#version: 0.2');
    expect(merges.slice(1, 4)).toEqual(['Ġ t', 'Ġ a', 'h e']);
    expect(merges).toHaveLength(50001);
    expect(JSON.parse(gpt2['tokenizer_config.json'] as string)).toMatchObject({
      tokenizer_class: 'GPT2Tokenizer',
      eos_token: '<|endoftext|>',
      model_max_length: 1024,
    });
  });

  it("GPT-2: tokenizer.json's merges encode text exactly as tabtron's tokenizer (gpt-tokenizer r50k)", () => {
    const tj = JSON.parse(gpt2['tokenizer.json'] as string);
    expect(tj.pre_tokenizer).toMatchObject({ type: 'ByteLevel', add_prefix_space: false, use_regex: true });
    expect(tj.added_tokens).toEqual([expect.objectContaining({ id: 50256, content: '<|endoftext|>', special: true })]);
    const text =
      "Call me Ishmael. Some years ago—never mind how long precisely—I thought I'd sail 1234 miles,\n\n  don't you? " +
      'naïve café 東京 🐳🐋 <tags> \t tabs';
    expect(bpeEncode(tj, text)).toEqual(encode(text));
  });

  it('CharLevelTokenizer: the 256 byte tokens with ids equal to the byte values, no merges', () => {
    const files = tokenizerFiles('CharLevelTokenizer', 64);
    expect(Object.keys(files).sort()).toEqual(['tokenizer.json', 'tokenizer_config.json']);
    const tj = JSON.parse(files['tokenizer.json'] as string);
    expect(tj.model.merges).toEqual([]);
    expect(tj.pre_tokenizer.use_regex).toBe(false);
    const text = 'héllo 🐳';
    expect(bpeEncode(tj, text)).toEqual([...new TextEncoder().encode(text)]);
  });

  it('recognizes the two vocabularies from the files, and nothing else', () => {
    const read = (files: Record<string, string | Uint8Array>) => (n: string) => (files[n] as string) ?? null;
    expect(recognizeVocab(vocabOfFiles(read(gpt2))!)).toBe('GPT2BPETokenizer');
    expect(recognizeVocab(vocabOfFiles(read({ 'vocab.json': gpt2['vocab.json'] }))!)).toBe('GPT2BPETokenizer');
    expect(recognizeVocab(vocabOfFiles(read(tokenizerFiles('CharLevelTokenizer', 8)))!)).toBe('CharLevelTokenizer');
    expect(recognizeVocab(new Map([['a', 0]]))).toBeNull();
    expect(vocabOfFiles(() => null)).toBeNull();
  });
});
