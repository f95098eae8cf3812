// One rank of a parallel run: the plan (src/parallel) says which stage and replica this rank
// is; it trains that stage's layers on its replica's slice of every global batch with the
// stage's 1F1B op list, and every rank reports the same (global) losses.
import type { GpuContext } from '../../gpu/context';
import type { GroupSpec } from '../../comm/worker-bridge';
import { sampleIds } from '../../data/dataset';
import { initFlat } from '../../model/init';
import type { ParamLayout, StageRange } from '../../model/params';
import type { TpCollectives } from '../../model/program';
import type { TpPlace } from '../../model/tp-shard';
import type { Range } from '../../gpu/kernels/optimizer';
import { planFromConfig } from '../../parallel/from-config';
import { rankOf } from '../../parallel/grid';
import type { Plan } from '../../parallel/plan';
import type { TrainEvent } from '../events';
import { adamHyper, buildCorpus, lrSchedule, modelSpec, type TrainConfig } from '../setup';
import { Trainer, type MicroBatch } from '../trainer';
import { pipelineStep, type PipelinePlace } from './pipeline';
import { loadRank, saveRank, type RankCheckpointing, type RankWhere } from './rank-checkpoint';
import type { RankComm } from './rank-comm';

export interface RankIdentity {
  comm: RankComm;
  rank: number;
  world: number;
}

export interface RankPlacement {
  place: PipelinePlace;
  stage: StageRange;
  slots: number;
  dpRank: number;
  tp: TpPlace;
  tpGroup: GroupSpec;
}

export function placeRank(plan: Plan, id: RankIdentity, tiedEmbeddings: boolean, zeroStage = 0): RankPlacement {
  if (plan.virtualChunks > 1)
    throw new Error('interleaved 1F1B (virtual stages) is not implemented in the trainer yet');
  const grid = plan.grid;
  const me = grid.coords[id.rank];
  const sp = plan.stages[me.pp];
  const find = (groups: number[][]) => groups.find((g) => g.includes(id.rank))!;
  const ppRanks = find(grid.groups.pp);
  const group = (name: string, ranks: number[]): GroupSpec => ({ name: `${name}[${ranks.join(',')}]`, ranks });
  const last = plan.pp - 1;
  const tiedAcross = plan.pp > 1 && tiedEmbeddings;
  // stages 2 and 3 (config warnings say so) run as stage 1: optimizer state sharded, same numbers
  const zero = zeroStage >= 1 && plan.dp > 1;
  const tpGroup = group('tp', find(grid.groups.tp)),
    ppGroup = group('pp', ppRanks),
    dpGroup = group('dp', find(grid.groups.dp));
  return {
    stage: { firstLayer: sp.layers[0], endLayer: sp.layers[1], hasEmbedding: me.pp === 0, hasHead: me.pp === last },
    slots: Math.max(1, sp.bufferSlots),
    dpRank: me.dp,
    tp: { size: plan.tp, rank: me.tp },
    tpGroup,
    place: {
      comm: id.comm,
      stage: me.pp,
      stages: plan.pp,
      prevRank: me.pp > 0 ? rankOf(grid, { ...me, pp: me.pp - 1 }) : null,
      nextRank: me.pp < last ? rankOf(grid, { ...me, pp: me.pp + 1 }) : null,
      ppGroup,
      tiedEmbeddingGroup:
        tiedAcross && (me.pp === 0 || me.pp === last) ? group('tied', [ppRanks[0], ppRanks[last]]) : null,
      dpGroup,
      zero,
      normGroups: zero ? [tpGroup, ppGroup, dpGroup] : [tpGroup, ppGroup],
      ops: sp.schedule,
    },
  };
}

/** Flat ranges this rank leaves out of the gradient norm because another rank counts them:
 *  TP-replicated tensors (counted on TP rank 0) and the last stage's copy of tied embeddings. */
export function normSkipRanges(layout: ParamLayout, tp: TpPlace, stage: StageRange, tiedCopy: boolean): Range[] {
  const skip: Range[] = [];
  if (tiedCopy && stage.hasHead && !stage.hasEmbedding) {
    const wte = layout.byName.get('embed.wte')!;
    skip.push({ start: wte.offset, end: wte.offset + wte.length });
  }
  if (tp.rank > 0 && layout.replicated.end > layout.replicated.start) skip.push(layout.replicated);
  return skip;
}

export function tpCollectives(comm: RankComm, group: GroupSpec): TpCollectives {
  return {
    size: group.ranks.length,
    sum: (a) => comm.allReduce(a, group, 'sum'),
    gather: (a) => comm.allGather(a, group),
  };
}

/** Forward-only mean loss over `batches`, through the whole pipeline. */
async function pipelineEval(
  t: Trainer,
  place: PipelinePlace,
  batches: readonly MicroBatch[],
  round: number,
): Promise<number> {
  const { comm } = place,
    { ctx, model } = t;
  const bytes = model.N * model.spec.C * 4;
  let total = 0;
  for (let i = 0; i < batches.length; i++) {
    const tag = `eval:${round}:${i}`;
    t.upload(batches[i], 0, { tokens: model.stage.hasEmbedding, targets: model.stage.hasHead });
    if (place.prevRank !== null) {
      const got = await comm.recv(place.prevRank, tag, bytes);
      ctx.write(model.inputOf(0), new Float32Array(got.buffer, got.byteOffset, got.byteLength / 4));
    }
    await t.run(model.slots[0].evalForward);
    if (place.nextRank !== null)
      await comm.send(place.nextRank, tag, new Uint8Array(await ctx.readRaw(model.acts.xFinal)));
    if (model.stage.hasHead) {
      const losses = await ctx.read(model.acts.losses);
      for (let j = 0; j < losses.length; j++) total += losses[j];
    }
  }
  const mean = total / (model.N * batches.length);
  return place.stages > 1
    ? (await comm.allReduce(Float32Array.of(mean), { ...place.ppGroup, name: 'pp-eval' }, 'sum'))[0]
    : mean;
}

export interface TrainRankOptions {
  /** stop after this many steps in all (defaults to train_iters) */
  maxSteps?: number;
  signal?: { aborted: boolean };
  checkpoints?: RankCheckpointing;
}

export async function trainRank(
  ctx: GpuContext,
  c: TrainConfig,
  text: string,
  id: RankIdentity,
  emit: (e: TrainEvent) => void,
  opts: TrainRankOptions = {},
): Promise<{ trainLoss: number; validLoss: number }> {
  const { plan } = planFromConfig(c, { world: id.world });
  const corpus = buildCorpus(c, text);
  const spec = modelSpec(c, corpus.tokenizer);
  const zeroStage = c.zero_optimization?.stage ?? 0;
  const { place, stage, slots, dpRank, tp, tpGroup } = placeRank(plan, id, spec.tied, zeroStage);
  const micro = plan.train_micro_batch_size_per_gpu,
    accum = plan.gradient_accumulation_steps;
  const trainer = new Trainer(ctx, {
    spec,
    microBatchSize: micro,
    gradAccumSteps: accum,
    adam: adamHyper(c),
    schedule: lrSchedule(c),
    stage,
    slots,
    tp: { place: tp, collectives: tpCollectives(id.comm, tpGroup) },
    recomputeLayers: c.checkpoint_activations ? (c.checkpoint_num_layers ?? 1) : 0,
    zero: place.zero ? { shards: plan.dp, index: dpRank } : undefined,
    normSkip: (layout) => normSkipRanges(layout, tp, stage, place.tiedEmbeddingGroup !== null),
  });
  const init = initFlat(trainer.model.layout, c.seed, tp);
  trainer.loadParams(init);
  const where: RankWhere = {
    spec,
    stage,
    tp,
    coord: plan.grid.coords[id.rank],
    layout: { tp: plan.tp, pp: plan.pp, dp: plan.dp, zeroStage: place.zero ? 1 : 0, world: plan.world },
  };
  const ck = opts.checkpoints ?? {};
  if (ck.load) {
    const got = await loadRank(ck.load, trainer, where, init);
    emit({ kind: 'checkpoint', action: 'loaded', step: got.step, iteration: got.iteration, files: got.files });
  }
  const save = async () => {
    if (!ck.save) return;
    const put = await saveRank(ck.save, trainer, where);
    if (put)
      emit({
        kind: 'checkpoint',
        action: 'saved',
        step: trainer.step,
        iteration: put.iteration,
        file: put.file.name,
        bytes: put.file.bytes,
        sha256: put.file.sha256,
        complete: put.complete,
      });
  };
  const steps = Math.min(opts.maxSteps ?? c.train_iters, c.train_iters);
  const tokensPerStep = micro * accum * plan.dp * spec.T;
  emit({
    kind: 'start',
    adapter: ctx.adapter,
    params: trainer.model.layout.count,
    tokensPerStep,
    trainIters: steps,
    corpusTokens: corpus.numTokens,
    vocab: spec.V,
    memory: trainer.memory(),
  });
  const valid = Array.from({ length: c.eval_iters }, (_, i) => corpus.valid.batch(sampleIds(i, 0, micro, 1)));
  let round = 0;
  let validLoss = await pipelineEval(trainer, place, valid, round++);
  emit({ kind: 'eval', step: 0, split: 'valid', loss: validLoss });
  const t0 = performance.now();
  let trainLoss = NaN;
  for (let step = trainer.step; step < steps && !opts.signal?.aborted; step++) {
    const ts = performance.now();
    const batches = Array.from({ length: accum }, (_, m) =>
      corpus.train.batch(sampleIds(step, m, micro, accum, dpRank, plan.dp)),
    );
    const r = await pipelineStep(trainer, place, batches);
    const ms = performance.now() - ts;
    trainLoss =
      plan.dp > 1
        ? (
            await id.comm.allReduce(
              Float32Array.of(r.loss),
              { ...place.dpGroup, name: `${place.dpGroup.name}:loss` },
              'avg',
            )
          )[0]
        : r.loss;
    // saved before the step is reported: a run ends when every rank has reported its last step
    if (Number.isFinite(trainLoss) && ((ck.every && r.step % ck.every === 0) || step === steps - 1)) await save();
    emit({
      kind: 'step',
      step: r.step,
      loss: trainLoss,
      lr: r.lr,
      gradNorm: r.gradNorm,
      ms,
      tokensPerSec: (tokensPerStep / ms) * 1000,
      breakdown: r.breakdown,
    });
    if (!Number.isFinite(trainLoss)) throw new Error(`loss became ${trainLoss} at step ${r.step}`);
    if (c.eval_interval > 0 && (r.step % c.eval_interval === 0 || step === steps - 1)) {
      validLoss = await pipelineEval(trainer, place, valid, round++);
      emit({ kind: 'eval', step: r.step, split: 'valid', loss: validLoss });
    }
  }
  emit({ kind: 'done', step: trainer.step, trainLoss, validLoss, elapsedMs: performance.now() - t0 });
  return { trainLoss, validLoss };
}
