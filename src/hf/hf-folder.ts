// A Hugging Face model folder on disk (Node only): config.json, the weights
// (model.safetensors, or shards listed by model.safetensors.index.json) and tokenizer files.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSpec } from '../model/spec';
import { HfError } from './errors';
import { specOfHfConfig, type HfArchitecture, type ImportOptions } from './hf-config';
import { readHfSafetensors } from './safetensors-any';
import { recognizeVocab, vocabOfFiles, type TokenizerName } from './tokenizer-files';
import { fromHfTensors, type Tensors } from './weights';

export interface HfModel {
  dir: string;
  arch: HfArchitecture;
  spec: ModelSpec;
  /** tabtron names, full shapes */
  tensors: Tensors;
  /** the tabtron tokenizer the folder's tokenizer files are, null when there are none or another */
  tokenizer: TokenizerName | null;
  /** what the tokenizer files were: 'none', 'recognized' or 'other' */
  tokenizerFiles: 'none' | 'recognized' | 'other';
  warnings: string[];
}

export const isHfFolder = (dir: string): boolean => existsSync(join(dir, 'config.json'));

function readJson(path: string, what: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new HfError(`${path}: cannot read ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const v = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new HfError(`${path}: ${what} is not valid JSON (${(e as Error).message})`);
  }
}

/** The weight files of a folder: model.safetensors, or the shards its index names. */
export function weightFiles(dir: string): string[] {
  if (existsSync(join(dir, 'model.safetensors'))) return ['model.safetensors'];
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (existsSync(indexPath)) {
    const map = readJson(indexPath, 'the weight index').weight_map;
    if (typeof map !== 'object' || map === null)
      throw new HfError(`${indexPath}: weight_map: expected an object of tensor name → file`);
    return [...new Set(Object.values(map as Record<string, string>))].sort();
  }
  const bin = ['pytorch_model.bin', 'pytorch_model.bin.index.json'].find((f) => existsSync(join(dir, f)));
  if (bin)
    throw new HfError(
      `${dir}: only ${bin} (PyTorch pickle) is there; tabtron reads safetensors: save the model with save_pretrained(dir) (safe_serialization is the default)`,
    );
  throw new HfError(`${dir}: no model.safetensors or model.safetensors.index.json`);
}

export function readHfFolder(dir: string, opts: ImportOptions = {}): HfModel {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new HfError(`${dir}: no such directory`);
  const configPath = join(dir, 'config.json');
  if (!existsSync(configPath)) throw new HfError(`${dir}: no config.json (not a Hugging Face model folder)`);
  const { arch, spec, warnings } = specOfHfConfig(readJson(configPath, 'the model config'), configPath, opts);
  const raw: Tensors = new Map();
  const skipped: string[] = [];
  for (const f of weightFiles(dir)) {
    const path = join(dir, f);
    if (!existsSync(path)) throw new HfError(`${path}: missing (named by model.safetensors.index.json)`);
    const d = readHfSafetensors(new Uint8Array(readFileSync(path)), path);
    for (const [k, t] of d.tensors) raw.set(k, t);
    skipped.push(...d.skipped);
  }
  let tensors: Tensors;
  try {
    tensors = fromHfTensors(spec, arch, raw, dir);
  } catch (e) {
    const missing = skipped.find((s) => (e as Error).message.includes(`tensor ${s} `));
    if (missing) throw new HfError(`${dir}: tensor ${missing} is not a float tensor (F32, F16, BF16 or F64)`);
    throw e;
  }
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8') : null);
  let vocab: Map<string, number> | null;
  try {
    vocab = vocabOfFiles(read);
  } catch (e) {
    throw new HfError(`${dir}: tokenizer files are not valid JSON (${(e as Error).message})`);
  }
  const hasFiles = ['tokenizer.json', 'vocab.json', 'tokenizer.model'].some((n) => existsSync(join(dir, n)));
  const tokenizer = vocab ? recognizeVocab(vocab) : null;
  return {
    dir,
    arch,
    spec,
    tensors,
    tokenizer,
    tokenizerFiles: tokenizer ? 'recognized' : hasFiles ? 'other' : 'none',
    warnings,
  };
}
