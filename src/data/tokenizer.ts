// Tokenizers named as NeoX names them: GPT2BPETokenizer (GPT-2's r50k BPE through the
// maintained `gpt-tokenizer` package) and CharLevelTokenizer (UTF-8 bytes, 256 ids).

import { decode as bpeDecode, encode as bpeEncode } from 'gpt-tokenizer/encoding/r50k_base';

export interface Tokenizer {
  readonly name: string;
  /** ids in [0, vocabSize); the model pads this up (make_vocab_size_divisible_by) */
  readonly vocabSize: number;
  readonly eod: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

const utf8 = new TextEncoder();
const NO_SPECIAL = new Set<string>();
const utf8Decoder = new TextDecoder();

export const charLevelTokenizer: Tokenizer = {
  name: 'CharLevelTokenizer',
  vocabSize: 256,
  eod: 0,
  encode: (text) => Array.from(utf8.encode(text)),
  decode: (ids) => utf8Decoder.decode(Uint8Array.from(ids)),
};

export const gpt2BpeTokenizer: Tokenizer = {
  name: 'GPT2BPETokenizer',
  vocabSize: 50257,
  eod: 50256,
  // NeoX's GPT-2 tokenizer has no special tokens in text: "<|endoftext|>" written in a document is
  // ordinary text (7 ids), never id 50256
  encode: (text) => bpeEncode(text, { disallowedSpecial: NO_SPECIAL }),
  decode: (ids) => bpeDecode(ids as number[]),
};

export const TOKENIZERS = { CharLevelTokenizer: charLevelTokenizer, GPT2BPETokenizer: gpt2BpeTokenizer } as const;
export type TokenizerName = keyof typeof TOKENIZERS;

export function getTokenizer(name: string): Tokenizer {
  const t = (TOKENIZERS as Record<string, Tokenizer>)[name];
  if (!t)
    throw new Error(`tokenizer_type "${name}" is not supported; choose one of ${Object.keys(TOKENIZERS).join(', ')}`);
  return t;
}
