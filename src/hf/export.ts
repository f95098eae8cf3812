// A tabtron model as a Hugging Face folder's files: config.json (see hf-config.ts),
// model.safetensors (HF names, shapes and layouts, F32; see weights.ts) and the tokenizer files.

import type { ModelSpec } from '../model/spec';
import { getTokenizer } from '../data/tokenizer';
import { HfError } from './errors';
import { chooseArchitecture, hfConfigOf, type HfArchitecture } from './hf-config';
import { writeHfSafetensors } from './safetensors-any';
import { tokenizerFiles, type TokenizerName } from './tokenizer-files';
import { toHfTensors, type Tensor } from './weights';

export interface HfExport {
  arch: HfArchitecture;
  /** file name → contents */
  files: Record<string, Uint8Array | string>;
  tensors: number;
}

/** Keys transformers types as floats: written with a decimal point even when whole (10000.0). */
const FLOAT_KEYS = new Set([
  'rope_theta',
  'rotary_emb_base',
  'rotary_pct',
  'partial_rotary_factor',
  'layer_norm_eps',
  'layer_norm_epsilon',
  'initializer_range',
  'attention_dropout',
  'hidden_dropout',
  'resid_pdrop',
  'embd_pdrop',
  'attn_pdrop',
]);

export function configJson(cfg: Record<string, unknown>): string {
  const text = JSON.stringify(cfg, null, 2).replace(/^(\s*)"(\w+)": (-?\d+)(,?)$/gm, (line, sp, key, n, comma) =>
    FLOAT_KEYS.has(key) ? `${sp}"${key}": ${n}.0${comma}` : line,
  );
  return `${text}\n`;
}

export function exportHf(s: ModelSpec, tensors: ReadonlyMap<string, Tensor>, tokenizer: TokenizerName): HfExport {
  const arch = chooseArchitecture(s);
  const tok = getTokenizer(tokenizer);
  if (tok.vocabSize > s.V)
    throw new HfError(`${tokenizer} has ${tok.vocabSize} tokens, more than the model's vocabulary of ${s.V}`);
  const hf = toHfTensors(s, arch, tensors);
  return {
    arch,
    tensors: hf.size,
    files: {
      'config.json': configJson(hfConfigOf(s, { eod: tok.eod })),
      'model.safetensors': writeHfSafetensors(hf),
      ...tokenizerFiles(tokenizer, s.maxPos),
    },
  };
}
