// Which of tabtron's tokenizers a model uses. A checkpoint's manifest does not record it and
// a Hugging Face folder may have no tokenizer files, so: the one asked for, else the one the
// folder's tokenizer files are, else the one its vocabulary size implies — tabtron's two
// tokenizers have 256 (CharLevelTokenizer) and 50257 (GPT2BPETokenizer) ids, and a model's
// vocabulary is its tokenizer's padded up, so V ≥ 50257 means GPT-2's BPE and 256 ≤ V < 50257
// byte-level (the choice is reported as a note).

import { getTokenizer } from '../data/tokenizer';
import { HfError } from './errors';
import type { TokenizerName } from './tokenizer-files';

export const TOKENIZER_NAMES: readonly TokenizerName[] = ['GPT2BPETokenizer', 'CharLevelTokenizer'];

export interface TokenizerChoice {
  name: TokenizerName;
  /** how it was chosen, for the user (null when asked for explicitly) */
  note: string | null;
}

export function tokenizerForVocab(V: number): TokenizerName {
  if (V >= 50257) return 'GPT2BPETokenizer';
  if (V >= 256) return 'CharLevelTokenizer';
  throw new HfError(`a vocabulary of ${V} is smaller than any tabtron tokenizer's (CharLevelTokenizer needs 256)`);
}

export function chooseTokenizer(o: {
  V: number;
  source: string;
  explicit?: string;
  files?: { kind: 'none' | 'recognized' | 'other'; name: TokenizerName | null };
}): TokenizerChoice {
  if (o.explicit !== undefined) {
    if (!TOKENIZER_NAMES.includes(o.explicit as TokenizerName))
      throw new HfError(`--tokenizer-type: "${o.explicit}" is not one of ${TOKENIZER_NAMES.join(', ')}`);
    const size = getTokenizer(o.explicit).vocabSize;
    if (size > o.V)
      throw new HfError(
        `--tokenizer-type ${o.explicit}: its ${size} ids do not fit ${o.source}'s vocabulary of ${o.V}`,
      );
    return { name: o.explicit as TokenizerName, note: null };
  }
  if (o.files?.kind === 'recognized' && o.files.name) return { name: o.files.name, note: null };
  if (o.files?.kind === 'other')
    throw new HfError(
      `${o.source}: its tokenizer files are neither GPT-2's BPE nor tabtron's byte-level tokenizer, so tabtron cannot encode text for it; pass --tokenizer-type to use one of ${TOKENIZER_NAMES.join(', ')} anyway`,
    );
  const name = tokenizerForVocab(o.V);
  return {
    name,
    note: `${o.source}: ${name} (from its vocabulary of ${o.V}; pass --tokenizer-type to choose)`,
  };
}
