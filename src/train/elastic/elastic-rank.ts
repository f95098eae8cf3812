// A rank that survives membership changes. It trains in numbered generations; each starts
// from one step that every rank of the generation agrees on (the coordinator picks it from
// what the ranks report when they halt) and ends when training is done or the rank is halted.
//
// Why one step of undo is enough: a rank applies the optimizer for step s only after the
// gradient-norm all-reduce of s, which needs every rank of its norm group to have finished
// the backward of s, which needs (through the pipeline, data-parallel and tensor-parallel
// exchanges of step s) every rank to have started s, i.e. finished s − 1. So when a run is
// halted, each rank holds s − 1 or s, and all of them can reach s − 1 (or s, when every rank
// finished it). Ranks that are ahead undo one step; nobody loses a step all ranks finished.
//
// Data order and dropout masks are pure functions of (seed, step, global sample), so a step
// replayed after a rollback computes the same numbers.
import { rankPrecision } from '../precision';
import { sampleIds } from '../../data/dataset';
import type { GpuContext } from '../../gpu/context';
import type { ModelSpec } from '../../model/spec';
import type { GenerationPlan, HaltReport, RestoreKind } from '../../protocol';
import type { CheckpointStore } from '../../checkpoint';
import type { LocalSgdConfig } from '../../config/local-sgd';
import { pipelineEval } from '../distributed/pipeline-eval';
import { pipelineSample } from '../distributed/pipeline-sample';
import { pipelineStep } from '../distributed/pipeline';
import type { RankComm } from '../distributed/rank-comm';
import { saveRank } from '../distributed/rank-checkpoint';
import type { TrainEvent } from '../events';
import { rankLocalSgd } from '../local-sgd/rank-local-sgd';
import type { RankData } from '../../data/rank-data';
import type { TrainConfig } from '../setup';
import { mixedReport, type MicroBatch } from '../trainer';
import { Halted, type HaltSignal, SwitchableComm } from './halt';
import { RankModel, rankSignature, snapshotKeyFor } from './rank-model';
import { readRankState, writeRankState } from './rank-state';
import { restoreState } from './restore';
import { SnapshotPolicy } from './snapshot-policy';
import type { SnapshotStore } from './snapshots';

export interface ElasticRankOptions {
  runId: string;
  config: TrainConfig;
  spec: ModelSpec;
  corpus: RankData;
  emit: (e: TrainEvent) => void;
  /** NeoX save (every checkpoint_factor steps and at the end) and load */
  checkpoints?: { save?: CheckpointStore; every?: number | null; load?: CheckpointStore };
  /** the tab's own snapshots, every `snapshotInterval` steps (null: chosen from the measured cost; 0: off) */
  snapshots?: SnapshotStore | null;
  snapshotInterval?: number | null;
  /** stop after this many steps in all (defaults to train_iters) */
  maxSteps?: number;
  /** tokens of the greedy sample taken at every evaluation (0 or absent: none) */
  sampleTokens?: number;
  /** set by a stop: the rank ends after its current step */
  stopSignal?: { aborted: boolean };
}

/** One generation's network and control, from the page (or a test). */
export interface GenerationControl {
  /** the generation's transport, failing with Halted once `halt` trips */
  comm: RankComm;
  halt: HaltSignal;
  /** the comm training uses (e.g. `comm` behind a pause gate); default `comm` */
  trainComm?: RankComm;
  /** the rank has its state and waits for start */
  ready(): void;
  /** resolves on the coordinator's start */
  started: Promise<void>;
  /** after each finished step (a pause gate's boundary) */
  onStep?(step: number): void;
}

export type GenerationOutcome =
  | { kind: 'done'; trainLoss: number; validLoss: number }
  | { kind: 'halted'; reason: string; report: HaltReport }
  | { kind: 'stopped' };

/** how long a rank keeps trying to upload a checkpoint file while the coordinator is away (ms) */
const SAVE_RETRY_MS = 60_000;

/** Errors that mean "the generation is over", not "this rank is broken". */
export function endsGeneration(e: unknown): boolean {
  const name = (e as { name?: string } | null)?.name;
  return e instanceof Halted || name === 'Halted' || name === 'CommError';
}

export class ElasticRank {
  private model: RankModel | null = null;
  private readonly comm = new SwitchableComm();
  private readonly snapshots: SnapshotPolicy | null;
  private evaluatedAt: number | null = null;

  constructor(
    private readonly ctx: GpuContext,
    private readonly o: ElasticRankOptions,
  ) {
    this.snapshots = o.snapshots ? new SnapshotPolicy(o.snapshots, o.snapshotInterval ?? null) : null;
  }

  /** The step of the state held now, what it can reach from memory, and its snapshots. */
  async report(): Promise<HaltReport> {
    const m = this.model;
    const snapshots = m && this.snapshots ? await this.snapshots.steps(m.snapshotKey(this.o.runId)) : [];
    return { step: m ? m.trainer.step : null, reachable: m ? m.undo.reachable() : [], snapshots };
  }

  /** Snapshot steps a rank would restore from for `plan`'s place (a reloaded tab, before its first generation). */
  async snapshotSteps(layout: GenerationPlan['layout'], rank: number): Promise<number[]> {
    if (!this.snapshots) return [];
    return this.snapshots.steps(snapshotKeyFor(this.o.runId, this.o.config, layout, rank));
  }

  async runGeneration(plan: GenerationPlan, rank: number, control: GenerationControl): Promise<GenerationOutcome> {
    try {
      const t0 = performance.now();
      const from = await this.restore(plan, rank, control);
      this.o.emit({ kind: 'restored', generation: plan.generation, step: plan.step, from, ms: performance.now() - t0 });
      control.ready();
      await control.halt.race(control.started);
      return await this.train(control);
    } catch (e) {
      if (!endsGeneration(e)) throw e;
      return { kind: 'halted', reason: (e as Error).message, report: await this.report() };
    }
  }

  /** Brings this rank's state to plan.step from plan.restore, then sends it to plan.donate. */
  private async restore(plan: GenerationPlan, rank: number, control: GenerationControl): Promise<RestoreKind> {
    this.comm.current = control.comm;
    const before = this.model;
    const keep = plan.restore.kind === 'keep';
    if (keep && !before) throw new Error(`generation ${plan.generation}: told to keep a state this tab does not hold`);
    if (keep) before!.undo.goTo(plan.step);
    if (!before || before.signature !== rankSignature(this.o.config, plan.layout, rank)) {
      // a survivor whose place changes (e.g. the run shrank) keeps its state across the rebuild
      const carried = keep ? await readRankState(before!.trainer) : null;
      this.model = new RankModel(this.ctx, this.o.config, this.o.spec, plan.layout, rank, this.comm);
      if (carried) writeRankState(this.model.trainer, carried);
    }
    const m = this.model!;
    await restoreState(m, plan, {
      comm: control.comm,
      runId: this.o.runId,
      checkpoints: this.o.checkpoints,
      snapshots: this.o.snapshots ?? null,
      emit: this.o.emit,
    });
    if (m.trainer.step !== plan.step)
      throw new Error(
        `generation ${plan.generation}: restored step ${m.trainer.step}, the run resumes at ${plan.step}`,
      );
    m.undo.save();
    this.snapshots?.restarted(m.trainer.step);
    return plan.restore.kind;
  }

  private async train(control: GenerationControl): Promise<GenerationOutcome> {
    const m = this.model!;
    const { trainer: t, plan, placement, spec } = m;
    const c = this.o.config;
    const corpus = this.o.corpus;
    this.comm.current = control.trainComm ?? control.comm;
    const { place, dpRank } = placement;
    const micro = plan.train_micro_batch_size_per_gpu,
      accum = plan.gradient_accumulation_steps;
    const steps = Math.min(this.o.maxSteps ?? c.train_iters, c.train_iters);
    const tokensPerStep = micro * accum * plan.dp * spec.T;
    this.o.emit({
      kind: 'start',
      adapter: this.ctx.adapter,
      params: t.model.layout.count,
      tokensPerStep,
      trainIters: steps,
      corpusTokens: corpus.numTokens,
      vocab: spec.V,
      memory: { ...t.memory(), undoBytes: m.undo.bytes },
      precision: rankPrecision(t.mixed?.format ?? null, t.halfStorage, t.model.arithmetic, this.ctx.adapter?.features),
    });
    const valid: MicroBatch[] = await Promise.all(
      Array.from({ length: c.eval_iters }, (_, i) => corpus.valid.batch(sampleIds(i, 0, micro, 1))),
    );
    let round = 0;
    let validLoss = Number.NaN;
    if (t.step === 0 && this.evaluatedAt !== 0) {
      validLoss = await pipelineEval(t, place, valid, round);
      await this.sample(valid, round++, 0);
      this.evaluatedAt = 0;
      this.o.emit({ kind: 'eval', step: 0, split: 'valid', loss: validLoss });
    }
    const local = c.local_sgd ? await this.startLocalSgd(c.local_sgd, steps) : null;
    const t0 = performance.now();
    let trainLoss = Number.NaN;
    const ck = this.o.checkpoints ?? {};
    for (let step = t.step; step < steps; step++) {
      control.halt.check();
      if (this.o.stopSignal?.aborted) return { kind: 'stopped' };
      const ts = performance.now();
      m.undo.save();
      const batches = await Promise.all(
        Array.from({ length: accum }, (_, k) => corpus.train.batch(sampleIds(step, k, micro, accum, dpRank, plan.dp))),
      );
      const r = await pipelineStep(t, place, batches);
      const ms = performance.now() - ts;
      trainLoss =
        plan.dp > 1
          ? (
              await this.comm.allReduce(
                Float32Array.of(r.loss),
                { ...place.dpGroup, name: `${place.dpGroup.name}:loss` },
                'avg',
              )
            )[0]
          : r.loss;
      if (!Number.isFinite(trainLoss)) throw new Error(`loss became ${trainLoss} at step ${r.step}`);
      if (local)
        for (const round of await local.sgd.afterStep(r.step, local.io)) this.o.emit({ kind: 'round', ...round });
      // saved before the step is reported: a run ends when every rank has reported its last step
      if (ck.save && ((ck.every && r.step % ck.every === 0) || step === steps - 1)) await this.save(ck.save);
      this.snapshots?.afterStep(m, this.o.runId, ms);
      this.o.emit({
        kind: 'step',
        step: r.step,
        loss: trainLoss,
        lr: r.lr,
        gradNorm: r.gradNorm,
        ms,
        tokensPerSec: (tokensPerStep / ms) * 1000,
        breakdown: r.breakdown,
        ...mixedReport(r),
      });
      control.onStep?.(r.step);
      if (c.eval_interval > 0 && (r.step % c.eval_interval === 0 || step === steps - 1)) {
        validLoss = await pipelineEval(t, place, valid, round);
        await this.sample(valid, round++, r.step);
        this.evaluatedAt = r.step;
        this.o.emit({ kind: 'eval', step: r.step, split: 'valid', loss: validLoss });
      }
    }
    await this.snapshots?.settled();
    this.o.emit({ kind: 'done', step: t.step, trainLoss, validLoss, elapsedMs: performance.now() - t0 });
    return { kind: 'done', trainLoss, validLoss };
  }

  /** Local SGD over this rank's data-parallel group from the current step. At step 0 every replica
   *  holds the same initial weights; a later generation may begin mid-round, when the replicas hold
   *  different ones: the round then starts from their average (the outer momentum from zero). */
  private async startLocalSgd(c: LocalSgdConfig, steps: number) {
    const { trainer: t, placement } = this.model!;
    const dp = placement.place.dpGroup;
    if (dp.ranks.length > 1 && t.step > 0)
      t.writeParams(await this.comm.allReduce(await t.readParams(), { ...dp, name: `${dp.name}:localsgd` }, 'avg'));
    return rankLocalSgd(c, t, this.comm, dp.ranks, steps);
  }

  /** A short greedy sample from the model (every rank takes part; rank 0 reports it). */
  private async sample(valid: readonly MicroBatch[], round: number, step: number): Promise<void> {
    const n = this.o.sampleTokens ?? 0;
    const m = this.model!;
    if (n <= 0 || valid.length === 0) return;
    const prompt = Array.from(valid[0].tokens.slice(0, Math.max(1, Math.min(16, m.spec.T >> 1))));
    const tokenizer = this.o.corpus.tokenizer;
    const tokens = await pipelineSample(m.trainer, m.placement.place, {
      prompt,
      newTokens: n,
      vocabSize: tokenizer.vocabSize,
      tpGroup: m.placement.tpGroup,
      round,
    });
    if (m.rank === 0)
      this.o.emit({ kind: 'sample', step, prompt: tokenizer.decode(prompt), text: tokenizer.decode(tokens) });
  }

  /** This rank's checkpoint file for its step, unless that iteration is already complete
   *  (a step replayed after a rollback saves nothing new). */
  private async save(store: CheckpointStore): Promise<void> {
    const m = this.model!;
    const step = m.trainer.step;
    // once, before any retry: with ZeRO-3 gathering the parameters is a collective of the replicas
    const params = await m.trainer.readAllParams();
    // the coordinator may be away (restarting) for a while: try again, then go on without this
    // checkpoint rather than stop training (the next one, or the ranks' memory, still has the state)
    for (let attempt = 0, deadline = Date.now() + SAVE_RETRY_MS; ; attempt++) {
      try {
        await this.saveOnce(store, params);
        return;
      } catch (e) {
        const code = (e as { code?: string }).code;
        const transient = code === 'unreachable' || ((e as { status?: number }).status ?? 0) >= 500;
        if (!transient || Date.now() > deadline) {
          if (!transient) throw e;
          this.o.emit({ kind: 'error', message: `checkpoint of step ${step} skipped: ${(e as Error).message}` });
          return;
        }
        await new Promise((r) => setTimeout(r, Math.min(5000, 500 * 2 ** attempt)));
      }
    }
  }

  private async saveOnce(store: CheckpointStore, params: Float32Array): Promise<void> {
    const m = this.model!;
    if (await store.manifest(m.trainer.step)) return;
    const put = await saveRank(store, m.trainer, m.where, params);
    if (put)
      this.o.emit({
        kind: 'checkpoint',
        action: 'saved',
        step: m.trainer.step,
        iteration: put.iteration,
        file: put.file.name,
        bytes: put.file.bytes,
        sha256: put.file.sha256,
        complete: put.complete,
      });
  }
}
