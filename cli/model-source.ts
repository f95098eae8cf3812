// What eval and generate run: a tabtron checkpoint directory (any layout, merged to one rank)
// or a Hugging Face model folder (config.json + safetensors), as a model spec, the flat
// single-rank parameters and the tokenizer.

import { existsSync } from 'node:fs';
import type { ModelSpec } from '../src/model/spec';
import { chooseTokenizer, type TokenizerChoice } from '../src/hf/choose-tokenizer';
import { checkpointTensors, tensorsToFlat } from '../src/hf/flat';
import { isHfFolder, readHfFolder } from '../src/hf/hf-folder';
import { openDir } from './checkpoint';
import { CliError } from './errors';

export interface ModelSource {
  what: string;
  spec: ModelSpec;
  flat: Float32Array;
  tokenizer: TokenizerChoice;
  warnings: string[];
}

export interface SourceOptions {
  iteration?: number;
  tokenizerType?: string;
  seqLength?: number;
}

function withSeqLength(spec: ModelSpec, T: number | undefined, what: string): ModelSpec {
  if (T === undefined) return spec;
  if (!Number.isInteger(T) || T < 1) throw new CliError(`--seq-length must be a positive integer, got ${T}`);
  if (spec.posEmb === 'learned' && T > spec.maxPos)
    throw new CliError(`--seq-length ${T}: ${what} has ${spec.maxPos} learned positions`);
  return { ...spec, T };
}

export async function loadModelSource(path: string, o: SourceOptions = {}): Promise<ModelSource> {
  if (!existsSync(path)) throw new CliError(`${path} does not exist`);
  if (isHfFolder(path)) {
    if (o.iteration !== undefined)
      throw new CliError(`--iteration applies to checkpoints; ${path} is a Hugging Face model folder`);
    const m = readHfFolder(path);
    const spec = withSeqLength(m.spec, o.seqLength, path);
    const tokenizer = chooseTokenizer({
      V: spec.V,
      source: path,
      explicit: o.tokenizerType,
      files: { kind: m.tokenizerFiles, name: m.tokenizer },
    });
    return { what: `${path} (${m.arch})`, spec, flat: tensorsToFlat(spec, m.tensors), tokenizer, warnings: m.warnings };
  }
  const { iteration, store, manifest } = await openDir(path, o.iteration);
  const tensors = await checkpointTensors(manifest, (name) => store.get(iteration, name));
  const spec = withSeqLength(manifest.spec, o.seqLength, path);
  const tokenizer = chooseTokenizer({ V: spec.V, source: path, explicit: o.tokenizerType });
  return {
    what: `${path} iteration ${iteration} (step ${manifest.step})`,
    spec,
    flat: tensorsToFlat(spec, tensors),
    tokenizer,
    warnings: [],
  };
}
