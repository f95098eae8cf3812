// What one rank saves and which ranks write a file. A sharded checkpoint is one safetensors
// file per writing rank plus a manifest (manifest.ts) that lists them with checksums:
//   <root>/iter_0000010/rank_00003.safetensors ... manifest.json      <root>/latest
// Writers: without ZeRO the DP replicas are identical, so only dp == 0 ranks write (params
// and Adam moments per parameter); with ZeRO stage ≥ 1 each rank owns a DP shard of the
// moments, so every rank writes its flat moment range and dp == 0 ranks also the params.

import type { StageRange } from '../model/params';
import { coordOf, type RankCoord } from '../parallel/grid';

export type { RankCoord };

/** Elements [start, end) of a rank's flat layout (end may pass layout.total: zero padding). */
export interface OptRange {
  start: number;
  end: number;
}

/** Mixed-precision training's host state, the same on every rank (saved by mixed-precision runs only). */
export interface TrainingMeta {
  /** iterations whose optimizer step was skipped for a gradient overflow */
  skippedSteps: number;
  /** DeepSpeed's dynamic loss scaler (src/train/loss-scaler.ts) */
  lossScaler?: { scale: number; curIter: number; lastOverflowIter: number; curHysteresis: number };
}

/** One rank's training state at save time. */
export interface RankState {
  /** optimizer steps completed */
  step: number;
  coord: RankCoord;
  stage: StageRange;
  /** (layout.total): flat params, layout = layoutParams(stageParamDefs(spec, stage, tpSize)) */
  params: Float32Array;
  /** (optRange.end - optRange.start): Adam moments over optRange */
  m: Float32Array;
  v: Float32Array;
  optRange: OptRange;
  training?: TrainingMeta;
}

export interface CheckpointLayout {
  tp: number;
  pp: number;
  dp: number;
  zeroStage: number;
  world: number;
}

/** How a file holds the Adam moments: one tensor per parameter, or the rank's flat ZeRO shard. */
export type MomentsKind = 'per-param' | 'flat';

export const MANIFEST_NAME = 'manifest.json';
export const LATEST_NAME = 'latest';

export class CheckpointError extends Error {
  constructor(
    readonly code: CheckpointErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export type CheckpointErrorCode =
  | 'checksum_mismatch'
  | 'checkpoint_complete'
  | 'invalid_file'
  | 'invalid_manifest'
  | 'layout_mismatch'
  | 'not_found'
  | 'incompatible'
  | 'read_only';

export const momentsKind = (layout: Pick<CheckpointLayout, 'zeroStage'>): MomentsKind =>
  layout.zeroStage >= 1 ? 'flat' : 'per-param';

export function writesFile(layout: CheckpointLayout, coord: Pick<RankCoord, 'dp'>): boolean {
  return layout.zeroStage >= 1 || coord.dp === 0;
}

export function writesParams(coord: Pick<RankCoord, 'dp'>): boolean {
  return coord.dp === 0;
}

/** Ranks that write a file, ascending. */
export function writerRanks(layout: CheckpointLayout): number[] {
  return Array.from({ length: layout.world }, (_, r) => r).filter((r) => writesFile(layout, coordOf(layout, r)));
}

export const rankFileName = (rank: number): string => `rank_${String(rank).padStart(5, '0')}.safetensors`;

/** The rank a file name stands for, or null when it is not a rank file name. */
export function rankOfFileName(name: string): number | null {
  const m = /^rank_(\d{5,})\.safetensors$/.exec(name);
  return m ? Number(m[1]) : null;
}

export const iterationDirName = (iteration: number): string => `iter_${String(iteration).padStart(7, '0')}`;

export function iterationOfDirName(name: string): number | null {
  const m = /^iter_(\d{7,})$/.exec(name.trim());
  return m ? Number(m[1]) : null;
}

export function checkLayout(layout: CheckpointLayout, what = 'layout'): void {
  for (const k of ['tp', 'pp', 'dp', 'world'] as const) {
    if (!Number.isInteger(layout[k]) || layout[k] < 1)
      throw new CheckpointError('invalid_manifest', `${what}.${k} must be a positive integer, got ${layout[k]}`);
  }
  if (layout.world !== layout.tp * layout.pp * layout.dp) {
    throw new CheckpointError(
      'invalid_manifest',
      `${what}: world ${layout.world} is not tp ${layout.tp} × pp ${layout.pp} × dp ${layout.dp}`,
    );
  }
}

export const sameLayout = (a: CheckpointLayout, b: CheckpointLayout): boolean =>
  a.tp === b.tp && a.pp === b.pp && a.dp === b.dp && a.zeroStage === b.zeroStage && a.world === b.world;

export const layoutText = (l: CheckpointLayout): string =>
  `TP ${l.tp} × PP ${l.pp} × DP ${l.dp} = ${l.world} ranks, ZeRO stage ${l.zeroStage}`;
