// Single-rank training run: the NeoX loop (train_iters steps, eval every eval_interval on
// eval_iters validation batches), reporting progress as TrainEvents.

import type { GpuContext } from '../gpu/context';
import { sampleIds } from '../data/dataset';
import { initFlat } from '../model/init';
import type { TrainEvent } from './events';
import type { DataSource } from '../data/data-files';
import { openRankData, type RankData } from '../data/rank-data';
import { mixedPrecisionFor, rankPrecision } from './precision';
import { adamHyper, lrSchedule, modelSpec, type TrainConfig } from './setup';
import { mixedReport, Trainer, type MicroBatch, type StepResult } from './trainer';

export interface RunOptions {
  /** stop after this many steps (defaults to train_iters) */
  maxSteps?: number;
  signal?: { aborted: boolean };
  /** keep one f32 step in flight (default true; false waits for every step, as a comparison) */
  stepInFlight?: boolean;
}

function evalBatches(corpus: RankData, c: TrainConfig, micro: number): Promise<MicroBatch[]> {
  return Promise.all(Array.from({ length: c.eval_iters }, (_, i) => corpus.valid.batch(sampleIds(i, 0, micro, 1))));
}

export async function trainSingleRank(
  ctx: GpuContext,
  c: TrainConfig,
  data: DataSource,
  emit: (e: TrainEvent) => void,
  opts: RunOptions = {},
): Promise<{ trainLoss: number; validLoss: number }> {
  const micro = c.train_micro_batch_size_per_gpu ?? 1;
  const accum = c.gradient_accumulation_steps ?? 1;
  const corpus = await openRankData(c, data, { globalBatch: micro * accum });
  const spec = modelSpec(c, corpus.tokenizer);
  const recomputeLayers = c.checkpoint_activations ? (c.checkpoint_num_layers ?? 1) : 0;
  const trainer = new Trainer(ctx, {
    spec,
    microBatchSize: micro,
    gradAccumSteps: accum,
    adam: adamHyper(c),
    schedule: lrSchedule(c),
    recomputeLayers,
    mixed: mixedPrecisionFor(c) ?? undefined,
  });
  trainer.loadParams(initFlat(trainer.model.layout, c.seed));
  const steps = Math.min(opts.maxSteps ?? c.train_iters, c.train_iters);
  const tokensPerStep = micro * accum * spec.T;
  emit({
    kind: 'start',
    adapter: ctx.adapter,
    params: trainer.model.layout.count,
    tokensPerStep,
    trainIters: steps,
    corpusTokens: corpus.numTokens,
    vocab: spec.V,
    memory: trainer.memory(),
    precision: rankPrecision(
      trainer.mixed?.format ?? null,
      trainer.halfStorage,
      trainer.model.arithmetic,
      ctx.adapter?.features,
    ),
  });
  const valid = await evalBatches(corpus, c, micro);
  let validLoss = await trainer.evaluate(valid);
  emit({ kind: 'eval', step: 0, split: 'valid', loss: validLoss });
  const t0 = performance.now();
  let trainLoss = NaN;
  const batchesOf = (step: number) =>
    Promise.all(Array.from({ length: accum }, (_, m) => corpus.train.batch(sampleIds(step, m, micro, accum))));
  const evalAfter = (n: number, last: boolean) => c.eval_interval > 0 && (n % c.eval_interval === 0 || last);
  // f32 steps keep one step in flight: the host fetches and records step n + 1 while the GPU
  // finishes step n. Mixed precision waits for each step (its loss scaler reads the overflow flag).
  const overlap = (opts.stepInFlight ?? true) && !trainer.mixed;
  let inFlight: { result: Promise<StepResult>; last: boolean } | null = null;
  let since = performance.now();
  const firstStep = trainer.step;
  const report = async (f: { result: Promise<StepResult>; last: boolean }): Promise<void> => {
    const r = await f.result;
    const now = performance.now();
    const ms = now - since;
    since = now;
    trainLoss = r.loss;
    emit({
      kind: 'step',
      step: r.step,
      loss: r.loss,
      lr: r.lr,
      gradNorm: r.gradNorm,
      ms,
      tokensPerSec: (tokensPerStep / ms) * 1000,
      ...mixedReport(r),
    });
    if (!Number.isFinite(r.loss)) throw new Error(`loss became ${r.loss} at step ${r.step}`);
    if (evalAfter(r.step, f.last)) {
      validLoss = await trainer.evaluate(valid);
      emit({ kind: 'eval', step: r.step, split: 'valid', loss: validLoss });
      since = performance.now();
    }
  };
  for (let step = 0; step < steps && !opts.signal?.aborted; step++) {
    const batches = await batchesOf(step);
    const next = { result: trainer.trainStep(batches), last: step === steps - 1 };
    // if reporting the step before throws (a NaN loss), this one's outcome is not waited for
    next.result.catch(() => undefined);
    if (inFlight) await report(inFlight);
    inFlight = next;
    // an evaluation reads the parameters this step leaves: nothing may be queued after it first
    if (!overlap || evalAfter(firstStep + step + 1, next.last)) {
      inFlight = null;
      await report(next);
    }
  }
  if (inFlight) await report(inFlight);
  emit({ kind: 'done', step: trainer.step, trainLoss, validLoss, elapsedMs: performance.now() - t0 });
  return { trainLoss, validLoss };
}
