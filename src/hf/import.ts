// A Hugging Face model as a tabtron checkpoint: one rank file (layout 1×1×1, step 0, zero
// Adam moments) whose manifest lists it, and the NeoX config that builds the same model and
// loads it (`load`), so `tabtron train` fine-tunes it. The config is validated, and the model
// it builds checked against the imported one, before anything is written.

import { SINGLE_RANK } from '../checkpoint/merge';
import { encodeRankFile } from '../checkpoint/rank-file';
import { resolveConfig } from '../config/resolve';
import { getTokenizer } from '../data/tokenizer';
import { fullModel } from '../model/params';
import type { ModelSpec } from '../model/spec';
import { modelSpec, type TrainConfig } from '../train/setup';
import { HfError } from './errors';
import { singleRankLayout, tensorsToFlat } from './flat';
import { neoxConfigFor, withUserTraining } from './neox-config';
import type { TokenizerName } from './tokenizer-files';
import type { Tensors } from './weights';

export interface ImportedCheckpoint {
  spec: ModelSpec;
  /** rank_00000.safetensors of a single-rank checkpoint */
  rankFile: Uint8Array;
  /** the NeoX config (underscore keys) */
  config: Record<string, unknown>;
  warnings: string[];
}

/** Fields where the config's model must equal the imported one (rotary fields only with rotary). */
function specMismatch(a: ModelSpec, b: ModelSpec): string | null {
  const keys = Object.keys(a) as (keyof ModelSpec)[];
  for (const k of keys) {
    if ((k === 'rotaryDims' || k === 'rotaryBase') && a.posEmb !== 'rotary') continue;
    if (a[k] !== b[k]) return `${k}: imported ${JSON.stringify(a[k])}, the config builds ${JSON.stringify(b[k])}`;
  }
  return null;
}

export function importCheckpoint(
  hfSpec: ModelSpec,
  tensors: Tensors,
  tokenizer: TokenizerName,
  load: string,
  user: Record<string, unknown> = {},
  userSource = 'the extra config',
): ImportedCheckpoint {
  const spec = withUserTraining(hfSpec, user, userSource);
  const config = neoxConfigFor(spec, tokenizer, load, user, userSource);
  const resolved = resolveConfig([
    { file: userSource === 'the extra config' ? 'imported config' : userSource, data: config },
  ]);
  const built = modelSpec(resolved.config as unknown as TrainConfig, getTokenizer(tokenizer));
  const bad = specMismatch(spec, built);
  if (bad) throw new HfError(`the NeoX config written for the import would build another model (${bad})`);
  const params = tensorsToFlat(spec, tensors);
  const total = singleRankLayout(spec).total;
  const rankFile = encodeRankFile(spec, SINGLE_RANK, {
    step: 0,
    coord: { rank: 0, tp: 0, pp: 0, dp: 0 },
    stage: fullModel(spec),
    params,
    m: new Float32Array(total),
    v: new Float32Array(total),
    optRange: { start: 0, end: total },
  });
  return { spec, rankFile, config, warnings: resolved.warnings };
}
