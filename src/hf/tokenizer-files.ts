// Tokenizer files that `transformers` loads (AutoTokenizer), for tabtron's two tokenizers:
//   GPT2BPETokenizer   GPT-2's byte-level BPE: tokenizer.json (the `tokenizers` library's
//                      format), vocab.json + merges.txt (the slow GPT2Tokenizer's), configs
//   CharLevelTokenizer UTF-8 bytes → ids 0..255 (as NeoX's CharLevelTokenizer encodes): a
//                      byte-level BPE with the 256 byte tokens and no merges, so each byte is
//                      its own token whose id is the byte's value; tokenizer.json only
// and the reverse: which of the two a model folder's tokenizer files describe.

import { BYTE_TO_CHAR } from './byte-unicode';
import { GPT2_EOT, GPT2_EOT_ID, gpt2Vocab } from './gpt2-vocab';

export type TokenizerName = 'GPT2BPETokenizer' | 'CharLevelTokenizer';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

function byteLevel(addPrefixSpace: boolean, useRegex: boolean) {
  return { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: useRegex };
}

function tokenizerJson(vocab: Record<string, number>, merges: string[], special: { id: number; content: string }[]) {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: special.map((s) => ({
      id: s.id,
      content: s.content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: true,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: byteLevel(false, merges.length > 0),
    post_processor: { ...byteLevel(true, true), trim_offsets: false },
    decoder: byteLevel(true, true),
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

function tokenizerConfig(cls: string, eos: string | null, eosId: number | null, maxLength: number) {
  return {
    tokenizer_class: cls,
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    ...(eos !== null && eosId !== null
      ? {
          bos_token: eos,
          eos_token: eos,
          unk_token: eos,
          added_tokens_decoder: {
            [String(eosId)]: {
              content: eos,
              lstrip: false,
              normalized: true,
              rstrip: false,
              single_word: false,
              special: true,
            },
          },
        }
      : {}),
  };
}

/** File name → contents. */
export function tokenizerFiles(name: TokenizerName, maxLength: number): Record<string, string> {
  if (name === 'CharLevelTokenizer') {
    const vocab = Object.fromEntries(BYTE_TO_CHAR.map((c, b) => [c, b]));
    return {
      'tokenizer.json': json(tokenizerJson(vocab, [], [])),
      'tokenizer_config.json': json(tokenizerConfig('PreTrainedTokenizerFast', null, null, maxLength)),
    };
  }
  const { tokens, merges } = gpt2Vocab();
  const vocab: Record<string, number> = Object.fromEntries(tokens.map((t, i) => [t, i]));
  vocab[GPT2_EOT] = GPT2_EOT_ID;
  const mergeLines = merges.map(([a, b]) => `${a} ${b}`);
  return {
    'tokenizer.json': json(tokenizerJson(vocab, mergeLines, [{ id: GPT2_EOT_ID, content: GPT2_EOT }])),
    'vocab.json': `${JSON.stringify(vocab)}\n`,
    'merges.txt': `#version: 0.2\n${mergeLines.join('\n')}\n`,
    'tokenizer_config.json': json(tokenizerConfig('GPT2Tokenizer', GPT2_EOT, GPT2_EOT_ID, maxLength)),
    'special_tokens_map.json': json({ bos_token: GPT2_EOT, eos_token: GPT2_EOT, unk_token: GPT2_EOT }),
  };
}

/** The vocabulary (token string → id) that a folder's tokenizer.json or vocab.json holds, or null. */
export function vocabOfFiles(read: (name: string) => string | null): Map<string, number> | null {
  const tj = read('tokenizer.json');
  if (tj !== null) {
    const parsed = JSON.parse(tj) as {
      model?: { type?: string; vocab?: Record<string, number> };
      added_tokens?: { id: number; content: string }[];
    };
    if (parsed.model?.type !== 'BPE' || !parsed.model.vocab) return null;
    const m = new Map(Object.entries(parsed.model.vocab));
    for (const t of parsed.added_tokens ?? []) m.set(t.content, t.id);
    return m;
  }
  const vj = read('vocab.json');
  return vj === null ? null : new Map(Object.entries(JSON.parse(vj) as Record<string, number>));
}

/** Which tabtron tokenizer a vocabulary is exactly, or null for any other. */
export function recognizeVocab(vocab: ReadonlyMap<string, number>): TokenizerName | null {
  if (vocab.size === 256 && BYTE_TO_CHAR.every((c, b) => vocab.get(c) === b)) return 'CharLevelTokenizer';
  const { tokens } = gpt2Vocab();
  if (
    vocab.size === tokens.length + 1 &&
    vocab.get(GPT2_EOT) === GPT2_EOT_ID &&
    tokens.every((t, i) => vocab.get(t) === i)
  )
    return 'GPT2BPETokenizer';
  return null;
}
