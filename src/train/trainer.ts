// One rank's training step, llm.c style: upload batch → forward → backward (per micro-batch,
// gradients accumulate) → global grad norm → clip + AdamW → read back the loss.

import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import { encodeDispatches } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import { addInto } from '../gpu/kernels/elementwise';
import { bucketTokens } from '../gpu/kernels/embedding';
import { adamw, gradSquaredNorm, numPartials, type AdamHyper } from '../gpu/kernels/optimizer';
import { Gpt } from '../model/gpt';
import type { ModelSpec } from '../model/spec';
import type { StageRange } from '../model/params';
import { learningRate, type LrSchedule } from './lr';

export interface MicroBatch {
  tokens: Int32Array;   // (B*T)
  targets: Int32Array;  // (B*T)
}

export interface TrainerOptions {
  spec: ModelSpec;
  microBatchSize: number;
  gradAccumSteps: number;
  adam: AdamHyper;
  schedule: LrSchedule;
  /** pipeline parallelism: the stage this rank holds and how many micro-batches it keeps in flight */
  stage?: StageRange;
  slots?: number;
  /** data-parallel size: the loss is a mean over micro × accum × T tokens on each replica */
}

export interface StepResult {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
}

export class Trainer {
  readonly model: Gpt;
  private readonly m: GpuTensor;
  private readonly v: GpuTensor;
  private readonly stepScalars: GpuTensor;
  readonly gradSq: GpuTensor;
  readonly lossSum: GpuTensor;
  /** global gradient norm (Σ g² into gradSq), then clip + AdamW */
  readonly normDispatches: Dispatch[];
  readonly updateDispatch: Dispatch;
  /** per activation slot: lossSum += that slot's per-token losses (last stage only) */
  readonly accumulateLoss: Dispatch[];
  private readonly betaPowers: [number, number];
  step = 0;

  constructor(readonly ctx: GpuContext, readonly opts: TrainerOptions) {
    const { spec, microBatchSize, gradAccumSteps } = opts;
    const tokensPerStep = microBatchSize * spec.T * gradAccumSteps;
    this.model = new Gpt(ctx, spec, microBatchSize, 1 / tokensPerStep, { stage: opts.stage, slots: opts.slots });
    const P = this.model.layout.total;
    this.m = ctx.tensor([P], 'adam.m');
    this.v = ctx.tensor([P], 'adam.v');
    this.stepScalars = ctx.tensor([4], 'stepScalars');
    this.gradSq = ctx.tensor([1], 'gradSq');
    this.lossSum = ctx.tensor([this.model.N], 'lossSum');
    const partials = ctx.tensor([numPartials(ctx, P)], 'gradNormPartials');
    const grads = this.model.flat('grads');
    this.normDispatches = gradSquaredNorm(ctx, grads, partials, this.gradSq);
    this.updateDispatch = adamw(ctx, this.model.flat('params'), grads, this.m, this.v, this.model.layout.decayCount, this.stepScalars, this.gradSq, opts.adam);
    this.accumulateLoss = this.model.stage.hasHead ? this.model.slots.map((sl) => addInto(ctx, this.lossSum, sl.acts.losses)) : [];
    this.betaPowers = [opts.adam.beta1, opts.adam.beta2];
  }

  /** Writes the full flat parameter vector (e.g. from initFlat or a checkpoint). */
  loadParams(flat: Float32Array): void {
    if (flat.length !== this.model.layout.total) throw new Error(`loadParams: got ${flat.length} values, model has ${this.model.layout.total}`);
    this.ctx.device.queue.writeBuffer(this.model.params, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  async readParams(): Promise<Float32Array> {
    return this.ctx.read(this.model.flat('params'));
  }

  async readGrads(): Promise<Float32Array> {
    return this.ctx.read(this.model.flat('grads'));
  }

  writeGrads(flat: Float32Array): void {
    if (flat.length !== this.model.layout.total) throw new Error(`writeGrads: got ${flat.length} values, model has ${this.model.layout.total}`);
    this.ctx.device.queue.writeBuffer(this.model.grads, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  /** Sets this step's learning rate, Adam bias corrections and dropout seed; zeroes gradients and the loss sum. */
  beginStep(): number {
    const lr = learningRate(this.opts.schedule, this.step);
    const t = this.step + 1;
    this.ctx.write(this.stepScalars, new Float32Array([lr, 1 - this.betaPowers[0] ** t, 1 - this.betaPowers[1] ** t, 0]));
    for (const sl of this.model.slots) this.ctx.write(sl.acts.dropSeed, new Uint32Array([(this.opts.spec.seed * 7919 + t) >>> 0, 0, 0, 0]));
    const enc = this.ctx.device.createCommandEncoder();
    enc.clearBuffer(this.model.grads);
    enc.clearBuffer(this.lossSum.buffer);
    this.ctx.device.queue.submit([enc.finish()]);
    return lr;
  }

  /** Σ over micro-batches of the mean per-token loss (last stage). */
  async readLossSum(): Promise<number> {
    const lossSum = await this.ctx.read(this.lossSum);
    let total = 0;
    for (let i = 0; i < lossSum.length; i++) total += lossSum[i];
    return total / this.model.N;
  }

  upload(mb: MicroBatch, slot = 0, parts: { tokens?: boolean; targets?: boolean } = { tokens: true, targets: true }): void {
    const a = this.model.slots[slot].acts;
    const N = this.model.N;
    if (mb.tokens.length !== N || mb.targets.length !== N) {
      throw new Error(`micro-batch has ${mb.tokens.length} tokens and ${mb.targets.length} targets; the model expects ${N} (micro batch × seq_length)`);
    }
    if (parts.tokens) {
      this.ctx.write(a.tokens, mb.tokens);
      this.ctx.write(a.buckets, bucketTokens(mb.tokens));
    }
    if (parts.targets) this.ctx.write(a.targets, mb.targets);
  }

  /** Forward + backward of every micro-batch, then the optimizer; resolves with the mean loss. */
  async trainStep(micro: readonly MicroBatch[], options: { skipOptimizer?: boolean; reduceGrads?: (t: Trainer) => Promise<void>; reduceLoss?: (loss: number) => Promise<number> } = {}): Promise<StepResult> {
    if (micro.length !== this.opts.gradAccumSteps) throw new Error(`trainStep: got ${micro.length} micro-batches, gradient_accumulation_steps is ${this.opts.gradAccumSteps}`);
    const { device } = this.ctx;
    const a = this.model.acts;
    const lr = this.beginStep();
    for (const mb of micro) {
      this.upload(mb);
      const enc = device.createCommandEncoder();
      enc.clearBuffer(a.dx.buffer);
      const pass = enc.beginComputePass();
      encodeDispatches(pass, this.model.forward);
      encodeDispatches(pass, [this.accumulateLoss[0]]);
      encodeDispatches(pass, this.model.backward);
      pass.end();
      device.queue.submit([enc.finish()]);
    }
    if (options.reduceGrads) await options.reduceGrads(this);
    this.ctx.run(this.normDispatches);
    if (!options.skipOptimizer) this.ctx.run([this.updateDispatch]);
    return this.finishStep(lr, micro.length, options.reduceLoss, options.skipOptimizer);
  }

  /** Counts the step and reads back its mean loss and gradient norm. */
  async finishStep(lr: number, microBatches: number, reduceLoss?: (loss: number) => Promise<number>, skipped = false): Promise<StepResult> {
    if (!skipped) this.step++;
    const [lossTotal, gradSq] = await Promise.all([this.model.stage.hasHead ? this.readLossSum() : Promise.resolve(0), this.ctx.read(this.gradSq)]);
    let loss = lossTotal / microBatches;
    if (reduceLoss) loss = await reduceLoss(loss);
    return { step: this.step, loss, lr, gradNorm: Math.sqrt(gradSq[0]) };
  }

  /** Mean loss over the given batches, forward only. */
  async evaluate(batches: readonly MicroBatch[]): Promise<number> {
    let total = 0;
    for (const mb of batches) {
      this.upload(mb);
      this.ctx.run(this.model.forward);
      const losses = await this.ctx.read(this.model.acts.losses);
      for (let i = 0; i < losses.length; i++) total += losses[i];
    }
    return total / (this.model.N * batches.length);
  }
}
