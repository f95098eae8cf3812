// One rank of a parallel run that never changes membership (tests, benchmarks, Node ranks):
// a single generation of an ElasticRank, starting from fresh weights or from the newest
// checkpoint of `load`, over a network that is there from start to end.
import type { GpuContext } from '../../gpu/context';
import type { DataSource } from '../../data/data-files';
import { openRankData } from '../../data/rank-data';
import { modelSpec, type TrainConfig } from '../setup';
import type { TrainEvent } from '../events';
import { ElasticRank } from '../elastic/elastic-rank';
import { HaltSignal } from '../elastic/halt';
import { configuredLayout } from '../elastic/layout';
import type { GenerationPlan } from '../../protocol';
import type { RankCheckpointing } from './rank-checkpoint';
import type { RankComm } from './rank-comm';

export interface RankIdentity {
  comm: RankComm;
  rank: number;
  world: number;
}

export interface TrainRankOptions {
  /** stop after this many steps in all (defaults to train_iters) */
  maxSteps?: number;
  signal?: { aborted: boolean };
  checkpoints?: RankCheckpointing;
  /** tokens of a greedy sample at every evaluation (default none) */
  sampleTokens?: number;
}

export async function trainRank(
  ctx: GpuContext,
  c: TrainConfig,
  data: DataSource,
  id: RankIdentity,
  emit: (e: TrainEvent) => void,
  opts: TrainRankOptions = {},
): Promise<{ trainLoss: number; validLoss: number }> {
  const corpus = await openRankData(c, data);
  const spec = modelSpec(c, corpus.tokenizer);
  const ck = opts.checkpoints ?? {};
  const rank = new ElasticRank(ctx, {
    runId: 'local',
    config: c,
    spec,
    corpus,
    emit,
    checkpoints: ck,
    maxSteps: opts.maxSteps,
    stopSignal: opts.signal,
    sampleTokens: opts.sampleTokens,
  });
  const plan: GenerationPlan = {
    generation: 1,
    step: 0,
    layout: configuredLayout(c, id.world),
    restore: { kind: 'init' },
    donate: [],
  };
  if (ck.load) {
    const iteration = await ck.load.latest();
    if (iteration === null) throw new Error('load: the checkpoint store holds no complete checkpoint');
    const manifest = await ck.load.manifest(iteration);
    plan.step = manifest!.step;
    plan.restore = { kind: 'checkpoint', iteration, source: 'load' };
  }
  const out = await rank.runGeneration(plan, id.rank, {
    comm: id.comm,
    halt: new HaltSignal(),
    ready: () => {},
    started: Promise.resolve(),
  });
  if (out.kind === 'halted') throw new Error(`rank ${id.rank}: ${out.reason}`);
  if (out.kind === 'stopped') return { trainLoss: Number.NaN, validLoss: Number.NaN };
  return out;
}
