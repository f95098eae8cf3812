// A rank's side of NeoX's save / load: its state into a checkpoint store (every
// checkpoint_factor steps and at the end of training), and any layout's checkpoint into this
// rank's params, Adam moments and step, so training continues exactly where it stopped.
import {
  loadFromStore,
  saveRankState,
  type CheckpointLayout,
  type CheckpointStore,
  type PutResult,
} from '../../checkpoint';
import type { StageRange } from '../../model/params';
import type { ModelSpec } from '../../model/spec';
import type { TpPlace } from '../../model/tp-shard';
import type { RankCoord } from '../../parallel/grid';
import type { Trainer } from '../trainer';

export interface RankCheckpointing {
  /** where checkpoints are saved (NeoX `save`); with `every` (checkpoint_factor) steps and at the end */
  save?: CheckpointStore;
  every?: number | null;
  /** where a checkpoint is loaded from before training (NeoX `load`): its newest iteration */
  load?: CheckpointStore;
}

export interface RankWhere {
  spec: ModelSpec;
  layout: CheckpointLayout;
  coord: RankCoord;
  stage: StageRange;
  tp: TpPlace;
}

/** `params`: the whole flat vector as t.readAllParams() gives it (read here when not given;
 *  with ZeRO-3 that is a collective over the replicas, so a caller that may retry reads it once). */
export async function saveRank(
  store: CheckpointStore,
  t: Trainer,
  w: RankWhere,
  params?: Float32Array,
): Promise<PutResult | null> {
  params ??= await t.readAllParams();
  const { m, v } = await t.readMoments();
  const host = t.hostState();
  // f32 runs write exactly what they always did
  const training = t.mixed ? { skippedSteps: host.skippedSteps, lossScaler: host.scaler } : undefined;
  return saveRankState(store, t.step, w.spec, w.layout, {
    ...(training ? { training } : {}),
    step: t.step,
    coord: w.coord,
    stage: w.stage,
    params,
    m,
    v,
    optRange: t.optRange,
  });
}

/** Loads the store's newest checkpoint into the trainer (any saved layout); returns its iteration. */
export async function loadRank(
  store: CheckpointStore,
  t: Trainer,
  w: RankWhere,
  init: Float32Array,
): Promise<{ iteration: number; step: number; files: number }> {
  const st = await loadFromStore(store, { spec: w.spec, stage: w.stage, tp: w.tp, optRange: t.optRange, init });
  t.loadParams(st.params);
  t.loadMoments(st.m, st.v);
  // a checkpoint without mixed-precision state (f32) starts the scaler afresh
  const fresh = t.hostState();
  t.loadHostState({
    step: st.step,
    skippedSteps: st.training?.skippedSteps ?? 0,
    scaler: st.training?.lossScaler ?? fresh.scaler,
  });
  return { iteration: st.iteration, step: st.step, files: st.fetched.length };
}
