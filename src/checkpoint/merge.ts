// Any checkpoint as a single-rank one: every parameter whole (TP pieces joined, pipeline
// stages together, the first stage's embed.wte), with its Adam moments. The result is an
// ordinary rank file of the layout TP = PP = DP = 1, so it loads back like any checkpoint.

import { fullModel } from '../model/params';
import type { ModelSpec } from '../model/spec';
import { NO_TP } from '../model/tp-shard';
import type { ReadFile } from './assemble';
import type { CheckpointLayout, RankState } from './layout';
import type { Manifest } from './manifest';
import { encodeRankFile } from './rank-file';
import { loadRankState } from './reshard';

export const SINGLE_RANK: CheckpointLayout = { tp: 1, pp: 1, dp: 1, zeroStage: 0, world: 1 };

export interface MergedCheckpoint {
  spec: ModelSpec;
  layout: CheckpointLayout;
  state: RankState;
  /** rank_00000.safetensors of a single-rank checkpoint */
  bytes: Uint8Array;
}

export async function mergeCheckpoint(manifest: Manifest, readFile: ReadFile): Promise<MergedCheckpoint> {
  const spec = manifest.spec,
    stage = fullModel(spec);
  const r = await loadRankState(manifest, readFile, { spec, stage, tp: NO_TP });
  const state: RankState = {
    step: manifest.step,
    coord: { rank: 0, tp: 0, pp: 0, dp: 0 },
    stage,
    params: r.params,
    m: r.m,
    v: r.v,
    optRange: r.optRange,
  };
  return { spec, layout: SINGLE_RANK, state, bytes: encodeRankFile(spec, SINGLE_RANK, state) };
}
