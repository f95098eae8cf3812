// The trainer of one rank in one layout: which stage, shard and replica it holds (placement),
// its Trainer (GPU buffers, recorded passes) and its one step of undo. Rebuilt only when the
// rank's place or the layout changes; the network it talks over is switched per generation.
import type { GpuContext } from '../../gpu/context';
import { initFlat } from '../../model/init';
import type { ModelSpec } from '../../model/spec';
import type { Plan } from '../../parallel/plan';
import type { ElasticLayout } from '../../protocol';
import { normSkipRanges, placeRank, tpCollectives, type RankPlacement } from '../distributed/placement';
import type { RankWhere } from '../distributed/rank-checkpoint';
import { halfFormatOf, mixedPrecisionFor } from '../precision';
import { adamHyper, lrSchedule, type TrainConfig } from '../setup';
import { Trainer } from '../trainer';
import type { SwitchableComm } from './halt';
import { planFor } from './layout';
import { snapshotKey } from './snapshots';
import { StepUndo } from './step-undo';

export class RankModel {
  readonly plan: Plan;
  readonly placement: RankPlacement;
  readonly trainer: Trainer;
  readonly undo: StepUndo;
  readonly where: RankWhere;
  /** the same string for two RankModels exactly when their states are interchangeable */
  readonly signature: string;

  constructor(
    ctx: GpuContext,
    readonly config: TrainConfig,
    readonly spec: ModelSpec,
    readonly layout: ElasticLayout,
    readonly rank: number,
    comm: SwitchableComm,
  ) {
    const c = config;
    this.plan = planFor(c, layout);
    const zeroStage = c.zero_optimization?.stage ?? 0;
    const world = this.plan.world;
    this.placement = placeRank(this.plan, { comm, rank, world }, spec.tied, zeroStage, {
      localSgd: !!c.local_sgd,
      pipe: c.pipe_compression,
      half: halfFormatOf(c),
      sequenceParallel: c.sequence_parallel,
    });
    const { place, stage, slots, dpRank, tp, tpGroup, zeroStage: zeroRun } = this.placement;
    const paramGroup = { ...place.dpGroup, name: `${place.dpGroup.name}:params` };
    this.trainer = new Trainer(ctx, {
      spec,
      microBatchSize: this.plan.train_micro_batch_size_per_gpu,
      gradAccumSteps: this.plan.gradient_accumulation_steps,
      adam: adamHyper(c),
      schedule: lrSchedule(c),
      stage,
      slots,
      tp: { place: tp, collectives: tpCollectives(comm, tpGroup, halfFormatOf(c), ctx) },
      recomputeLayers: c.checkpoint_activations ? (c.checkpoint_num_layers ?? 1) : 0,
      sequenceParallel: place.seqParallelGroup !== null,
      zero: place.zero
        ? {
            shards: this.plan.dp,
            index: dpRank,
            stage: zeroRun,
            gather: (piece, slice, wire) => comm.allGather(piece, { ...paramGroup, slice, ...(wire ? { wire } : {}) }),
          }
        : undefined,
      normSkip: (l) => normSkipRanges(l, tp, stage, place.tiedEmbeddingGroup !== null),
      mixed: mixedPrecisionFor(c) ?? undefined,
    });
    this.undo = new StepUndo(ctx, this.trainer);
    const coord = this.plan.grid.coords[rank];
    this.where = {
      spec,
      stage,
      tp,
      coord,
      layout: { tp: this.plan.tp, pp: this.plan.pp, dp: this.plan.dp, zeroStage: zeroRun, world },
    };
    this.signature = rankSignature(c, layout, rank);
  }

  /** Parameters and moments are interchangeable with another replica's of the same stage and
   *  shard, unless ZeRO splits them by replica (the moments; with stage 3 the parameters too). */
  get zero(): boolean {
    return this.placement.place.zero;
  }

  /** Where this rank's local snapshots are kept. */
  snapshotKey(runId: string): string {
    return snapshotKeyFor(runId, this.config, this.layout, this.rank);
  }

  /** Fresh weights (the config's seed), zero moments, step 0. */
  initialize(): Float32Array {
    const init = initFlat(this.trainer.model.layout, this.config.seed, this.placement.tp);
    this.trainer.loadParams(init);
    const n = this.trainer.optRange.end - this.trainer.optRange.start;
    this.trainer.loadMoments(new Float32Array(n), new Float32Array(n));
    this.trainer.loadHostState({ step: 0, skippedSteps: 0, scaler: mixedPrecisionFor(this.config)?.scaler.state() });
    return init;
  }
}

const usesZero = (c: TrainConfig, layout: ElasticLayout) => (c.zero_optimization?.stage ?? 0) >= 1 && layout.dp > 1;

/** A RankModel built for one (layout, rank) serves another exactly when these match. */
export function rankSignature(c: TrainConfig, layout: ElasticLayout, rank: number): string {
  return JSON.stringify({ layout, rank, zero: usesZero(c, layout) });
}

/** Where the local snapshots of `rank` in `layout` are kept (no GPU work). */
export function snapshotKeyFor(runId: string, c: TrainConfig, layout: ElasticLayout, rank: number): string {
  const coord = planFor(c, layout).grid.coords[rank];
  if (!coord) throw new Error(`rank ${rank} is outside layout ${JSON.stringify(layout)}`);
  return snapshotKey({
    runId,
    tp: layout.tp,
    pp: layout.pp,
    zero: usesZero(c, layout) ? { dp: layout.dp, dpRank: coord.dp } : null,
    coords: { tp: coord.tp, pp: coord.pp },
  });
}
