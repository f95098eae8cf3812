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
  private readonly gradSq: GpuTensor;
  private readonly lossSum: GpuTensor;
  private readonly optimizer: Dispatch[];
  private readonly accumulateLoss: Dispatch;
  private readonly betaPowers: [number, number];
  step = 0;

  constructor(readonly ctx: GpuContext, readonly opts: TrainerOptions) {
    const { spec, microBatchSize, gradAccumSteps } = opts;
    const tokensPerStep = microBatchSize * spec.T * gradAccumSteps;
    this.model = new Gpt(ctx, spec, microBatchSize, 1 / tokensPerStep);
    const P = this.model.layout.total;
    this.m = ctx.tensor([P], 'adam.m');
    this.v = ctx.tensor([P], 'adam.v');
    this.stepScalars = ctx.tensor([4], 'stepScalars');
    this.gradSq = ctx.tensor([1], 'gradSq');
    this.lossSum = ctx.tensor([this.model.N], 'lossSum');
    const partials = ctx.tensor([numPartials(ctx, P)], 'gradNormPartials');
    const grads = this.model.flat('grads');
    this.optimizer = [
      ...gradSquaredNorm(ctx, grads, partials, this.gradSq),
      adamw(ctx, this.model.flat('params'), grads, this.m, this.v, this.model.layout.decayCount, this.stepScalars, this.gradSq, opts.adam),
    ];
    this.accumulateLoss = addInto(ctx, this.lossSum, this.model.acts.losses);
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

  private upload(mb: MicroBatch): void {
    const a = this.model.acts;
    const N = this.model.N;
    if (mb.tokens.length !== N || mb.targets.length !== N) {
      throw new Error(`micro-batch has ${mb.tokens.length} tokens and ${mb.targets.length} targets; the model expects ${N} (micro batch × seq_length)`);
    }
    this.ctx.write(a.tokens, mb.tokens);
    this.ctx.write(a.targets, mb.targets);
    this.ctx.write(a.buckets, bucketTokens(mb.tokens));
  }

  /** Forward + backward of every micro-batch, then the optimizer; resolves with the mean loss. */
  async trainStep(micro: readonly MicroBatch[], options: { skipOptimizer?: boolean; reduceGrads?: (t: Trainer) => Promise<void>; reduceLoss?: (loss: number) => Promise<number> } = {}): Promise<StepResult> {
    if (micro.length !== this.opts.gradAccumSteps) throw new Error(`trainStep: got ${micro.length} micro-batches, gradient_accumulation_steps is ${this.opts.gradAccumSteps}`);
    const { device } = this.ctx;
    const a = this.model.acts;
    const lr = learningRate(this.opts.schedule, this.step);
    const t = this.step + 1;
    this.ctx.write(this.stepScalars, new Float32Array([lr, 1 - this.betaPowers[0] ** t, 1 - this.betaPowers[1] ** t, 0]));
    this.ctx.write(a.dropSeed, new Uint32Array([(this.opts.spec.seed * 7919 + t) >>> 0, 0, 0, 0]));
    {
      const enc = device.createCommandEncoder();
      enc.clearBuffer(this.model.grads);
      enc.clearBuffer(this.lossSum.buffer);
      device.queue.submit([enc.finish()]);
    }
    for (const mb of micro) {
      this.upload(mb);
      const enc = device.createCommandEncoder();
      enc.clearBuffer(a.dx.buffer);
      const pass = enc.beginComputePass();
      encodeDispatches(pass, this.model.forward);
      encodeDispatches(pass, [this.accumulateLoss]);
      encodeDispatches(pass, this.model.backward);
      pass.end();
      device.queue.submit([enc.finish()]);
    }
    if (options.reduceGrads) await options.reduceGrads(this);
    if (!options.skipOptimizer) {
      this.ctx.run(this.optimizer);
      this.step++;
    } else {
      this.ctx.run(this.optimizer.slice(0, -1));
    }
    const [lossSum, gradSq] = await Promise.all([this.ctx.read(this.lossSum), this.ctx.read(this.gradSq)]);
    let total = 0;
    for (let i = 0; i < lossSum.length; i++) total += lossSum[i];
    let loss = total / (this.model.N * micro.length);
    if (options.reduceLoss) loss = await options.reduceLoss(loss);
    return { step: t, loss, lr, gradNorm: Math.sqrt(gradSq[0]) };
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
