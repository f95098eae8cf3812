// One rank's training step, llm.c style: upload batch → forward → backward (per micro-batch,
// gradients accumulate) → global grad norm → clip + AdamW → read back the loss.
// The same object serves every layout: a pipeline stage, a tensor-parallel part, and with
// ZeRO an optimizer that owns only one data-parallel shard of the flat parameter vector (stage 1),
// with only that shard of the gradients kept (stage 2: the backward's gradients live in a window,
// param-window.ts) and of the parameters at rest (stage 3: gathered into a window before use).

import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import type { Arithmetic } from '../gpu/kernels/matmul-f16';
import { addInto } from '../gpu/kernels/elementwise';
import { adamw, gradSquaredNorm, numPartials, type AdamHyper, type Range } from '../gpu/kernels/optimizer';
import type { AttentionBackward } from '../model/activations';
import { ALIGN_ELEMS, type ParamLayout, type StageRange } from '../model/params';
import { Gpt } from '../model/gpt';
import { ProgramBuilder, type Program, type TpCollectives } from '../model/program';
import { runProgram, type RunHooks } from '../model/run-program';
import type { ModelSpec } from '../model/spec';
import type { TpPlace } from '../model/tp-shard';
import type { RankMemory } from './events';
import { unscaleAndCheck } from '../gpu/kernels/loss-scale';
import type { LossScalerState } from './loss-scaler';
import { learningRate, type LrSchedule } from './lr';
import { type HalfStorage, halfStorageRun, NO_HALF_STORAGE } from '../parallel/half-storage';
import type { HalfFormat, MixedPrecision } from './precision';
import { MasterWeights } from './master-weights';
import { ParamGather, type SliceGather } from './param-gather';

export interface MicroBatch {
  tokens: Int32Array; // (B*T)
  targets: Int32Array; // (B*T)
  /** global id of the first of its B consecutive samples: dropout masks follow the sample, not the rank */
  firstSample?: number;
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
  /** tensor parallelism: this rank's place and its group's collectives */
  tp?: { place: TpPlace; collectives: TpCollectives };
  /** activation recompute (NeoX checkpoint_activations): chunk size in layers (0 = off) */
  recomputeLayers?: number;
  /** ZeRO: the optimizer state is split into `shards` equal parts of the (padded) flat
   *  vector and this rank updates part `index`; stage 2 keeps only that part of the gradients,
   *  stage 3 also of the parameters, gathering the rest with `gather` (default stage 1) */
  zero?: { shards: number; index: number; stage?: number; gather?: SliceGather };
  /** flat-buffer ranges this rank leaves out of the gradient norm (another rank counts them), given its layout */
  normSkip?: (layout: ParamLayout) => Range[];
  /** how the attention runs without kept probabilities (model/activations.ts fusionFor); default: chosen by size */
  attentionBackward?: AttentionBackward;
  /** fp16 / bf16: the loss scaler (the backward is scaled, gradients unscaled and checked; a step
   *  with an Inf/NaN gradient skips the optimizer); absent: f32 */
  mixed?: MixedPrecision;
  /** Megatron's sequence parallelism inside the TP group (NeoX sequence_parallel): the TP-replicated
   *  gradients are then this rank's part, summed over the TP group by the gradient sync */
  sequenceParallel?: boolean;
  /** the linear layers' products: default f16 for fp16 on a device with shader-f16, else f32
   *  (gpu/kernels/matmul-f16.ts arithmeticFor); 'f32' forces f32 (comparisons) */
  arithmetic?: Arithmetic;
  /** f16 arithmetic with fp16 weights: read the layers' linear weights packed (default true; Gpt) */
  readPackedWeights?: boolean;
}

/** trainStep's options: the optimizer skipped; hooks for the gradients (e.g. a data-parallel sum)
 *  before the norm, and for the loss (e.g. its mean over replicas) */
export interface StepOptions {
  skipOptimizer?: boolean;
  reduceGrads?: (t: Trainer) => Promise<void>;
  reduceLoss?: (loss: number) => Promise<number>;
}

export interface StepResult {
  step: number;
  loss: number;
  lr: number;
  gradNorm: number;
  /** mixed precision: the loss scale this step used, and whether its gradients overflowed
   *  (then the optimizer did not step, the learning-rate schedule did not advance) */
  lossScale?: number;
  overflow?: boolean;
}

/** The host side of a rank's training state (beside its GPU buffers): what undo, snapshots
 *  and checkpoints keep. */
export interface TrainerHostState {
  step: number;
  /** iterations whose optimizer step was skipped (gradient overflow) */
  skippedSteps: number;
  scaler?: LossScalerState;
}

/** A step event's mixed-precision fields: the loss scale it used, and `skipped` when its
 *  gradients overflowed (absent in f32 runs). */
export function mixedReport(r: StepResult): { lossScale?: number; skipped?: boolean } {
  if (r.lossScale === undefined) return {};
  return r.overflow ? { lossScale: r.lossScale, skipped: true } : { lossScale: r.lossScale };
}

/** ZeRO-1's flat length: the layout padded so `shards` equal parts each start aligned. */
export function zeroFlatLength(total: number, shards: number): number {
  const unit = ALIGN_ELEMS * shards;
  return Math.ceil(total / unit) * unit;
}

/** The parts of `skip` inside `range`, shifted to be relative to its start. */
function clipRanges(skip: readonly Range[], range: Range): Range[] {
  return skip
    .map((r) => ({
      start: Math.max(r.start, range.start) - range.start,
      end: Math.min(r.end, range.end) - range.start,
    }))
    .filter((r) => r.end > r.start);
}

export class Trainer {
  readonly model: Gpt;
  /** the flat-vector elements whose Adam state this rank holds and updates */
  readonly optRange: Range;
  readonly m: GpuTensor;
  readonly v: GpuTensor;
  private readonly stepScalars: GpuTensor;
  readonly gradSq: GpuTensor;
  readonly lossSum: GpuTensor;
  /** Σ g² over optRange (minus normSkip) into gradSq */
  readonly normDispatches: Dispatch[];
  /** clip by sqrt(gradSq) + AdamW over optRange */
  readonly updateDispatch: Dispatch;
  /** per activation slot: lossSum += that slot's per-token losses (slots of the chunk with the head) */
  readonly accumulateLoss: (Dispatch | null)[];
  private readonly betaPowers: [number, number];
  readonly tpCollectives: TpCollectives | null;
  /** the ZeRO stage that runs (0 without sharding) */
  readonly zeroStage: number;
  /** ZeRO-2/3: (optRange length) this rank's shard of the step's gradients */
  readonly gradShard: GpuTensor | null;
  /** ZeRO-3: (optRange length) this rank's shard of the parameters, all it holds at rest */
  readonly paramShard: GpuTensor | null;
  private readonly gatherer: ParamGather | null;
  /** iterations done (the data position): steps applied + steps skipped */
  step = 0;
  /** iterations whose gradients overflowed, so the optimizer (and the LR schedule) did not step */
  skippedSteps = 0;
  readonly mixed: MixedPrecision | null;
  /** mixed precision: (2) [loss scale, 1 / loss scale] of the step */
  readonly lossFactors: GpuTensor | null;
  /** mixed precision: u32 (1), 1 when a gradient of this rank's optimizer range is Inf or NaN */
  readonly overflowFlag: GpuTensor | null;
  private lastStep: { lossScale: number; overflow: boolean } | null = null;
  /** resolves once the latest trainStep has queued its GPU work and readbacks */
  private stepQueued: Promise<void> = Promise.resolve();
  /** what this rank keeps in 16 bits in GPU memory (parallel/half-storage.ts) */
  readonly halfStorage: HalfStorage;
  /** 16-bit weights: the f32 master flat vector (what AdamW updates and checkpoints hold); the
   *  model's `params` is then the window its packed copy is unpacked into */
  private readonly master: MasterWeights | null;
  /** ZeRO with mixed precision: the 16-bit format the parameters are all-gathered in, else null
   *  (f32). Stages 1/2 with a 16-bit working copy (every rank casts what it holds to it anyway);
   *  stage 3 when half_storage.weights is asked (its window then holds the 16-bit values). */
  readonly paramWire: HalfFormat | null;

  constructor(
    readonly ctx: GpuContext,
    readonly opts: TrainerOptions,
  ) {
    const { spec, microBatchSize, gradAccumSteps } = opts;
    const tokensPerStep = microBatchSize * spec.T * gradAccumSteps;
    const zero = opts.zero ?? { shards: 1, index: 0 };
    this.zeroStage = zero.shards > 1 ? (zero.stage ?? 1) : 0;
    if (this.zeroStage === 3 && !zero.gather) throw new Error('ZeRO-3 needs a gather over the data-parallel group');
    const stageModel = {
      stage: opts.stage,
      slots: opts.slots,
      tp: opts.tp?.place,
      recomputeLayers: opts.recomputeLayers,
      attentionBackward: opts.attentionBackward,
      sequenceParallel: opts.sequenceParallel,
      arithmetic: opts.arithmetic,
      readPackedWeights: opts.readPackedWeights,
    };
    this.mixed = opts.mixed ?? null;
    this.halfStorage = this.mixed ? halfStorageRun(this.mixed.storage, { zeroStage: this.zeroStage }) : NO_HALF_STORAGE;
    this.lossFactors = this.mixed ? ctx.tensor([2], 'lossScaleFactors') : null;
    this.overflowFlag = this.mixed ? ctx.tensor([1], 'overflowFlag') : null;
    this.model = new Gpt(ctx, spec, microBatchSize, 1 / tokensPerStep, {
      ...stageModel,
      lossScaleFactors: this.lossFactors ?? undefined,
      flatLength: (total) => (zero.shards > 1 ? zeroFlatLength(total, zero.shards) : total),
      window: { params: this.zeroStage >= 3, grads: this.zeroStage >= 2 },
      half: this.mixed ? { format: this.mixed.format, ...this.halfStorage } : undefined,
    });
    const flatLength = this.model.flatLength;
    this.master = this.model.halfWeights ? new MasterWeights(ctx, this.model) : null;
    this.tpCollectives = opts.tp && opts.tp.place.size > 1 ? opts.tp.collectives : null;
    const S = flatLength / zero.shards;
    this.optRange = { start: zero.index * S, end: (zero.index + 1) * S };
    this.m = ctx.tensor([S], 'adam.m');
    this.v = ctx.tensor([S], 'adam.v');
    this.gradShard = this.zeroStage >= 2 ? ctx.tensor([S], 'grads.shard') : null;
    this.paramShard = this.zeroStage >= 3 ? ctx.tensor([S], 'params.shard') : null;
    const halfGathers = this.zeroStage === 3 ? this.mixed?.storage.weights : this.model.halfWeights !== null;
    this.paramWire = this.zeroStage > 0 && halfGathers ? this.mixed!.format : null;
    this.gatherer = this.paramShard
      ? new ParamGather(ctx, this.model, this.paramShard, this.optRange, zero.gather!, this.paramWire)
      : null;
    this.stepScalars = ctx.tensor([4], 'stepScalars');
    this.gradSq = ctx.tensor([1], 'gradSq');
    this.lossSum = ctx.tensor([this.model.N], 'lossSum');
    const view = (which: 'params' | 'grads'): GpuTensor => {
      const shard = which === 'params' ? this.paramShard : this.gradShard;
      if (shard) return shard;
      const t = which === 'params' ? this.flatParams(true) : this.model.flat(which, true);
      return {
        ...t,
        offset: this.optRange.start * 4,
        length: S,
        shape: [S],
        name: `${which}[${this.optRange.start}, ${this.optRange.end})`,
      };
    };
    const partials = ctx.tensor([numPartials(ctx, S)], 'gradNormPartials');
    this.normDispatches = [
      // the whole optimizer range is unscaled and checked; the norm leaves out what others count
      ...(this.mixed ? [unscaleAndCheck(ctx, view('grads'), this.lossFactors!, 1, this.overflowFlag!)] : []),
      ...gradSquaredNorm(
        ctx,
        view('grads'),
        partials,
        this.gradSq,
        clipRanges(opts.normSkip?.(this.model.layout) ?? [], this.optRange),
      ),
    ];
    const decay = Math.min(S, Math.max(0, this.model.layout.decayCount - this.optRange.start));
    this.updateDispatch = adamw(
      ctx,
      view('params'),
      view('grads'),
      this.m,
      this.v,
      decay,
      this.stepScalars,
      this.gradSq,
      opts.adam,
    );
    this.accumulateLoss = this.model.slots.map((sl) =>
      sl.range.hasHead ? addInto(ctx, this.lossSum, sl.acts.losses) : null,
    );
    this.betaPowers = [opts.adam.beta1, opts.adam.beta2];
  }

  memory(): RankMemory {
    const bytes = (t: GpuTensor | null) => t?.buffer.size ?? 0;
    return {
      paramBytes:
        this.model.params.size +
        bytes(this.paramShard) +
        (this.master?.buffer.size ?? 0) +
        bytes(this.model.halfWeights?.packed ?? null),
      gradBytes: this.model.grads.size + bytes(this.gradShard),
      optimizerBytes: this.m.buffer.size + this.v.buffer.size,
      activationBytes: this.model.activationBytes,
    };
  }

  /** The f32 parameters the optimizer updates, as a flat vector (layout.total, or flatLength with
   *  `padded`): the model's own buffer, or with 16-bit weights the master. Not with ZeRO-3. */
  flatParams(padded = false): GpuTensor {
    return this.master ? this.master.flat(padded) : this.model.flat('params', padded);
  }

  /** Clip + AdamW over the rank's range (the gradients are final); with 16-bit weights the
   *  packed copy is cast again before the next pass. */
  applyUpdate(): void {
    this.ctx.run([this.updateDispatch]);
    this.master?.changed();
  }

  /** Runs a recorded pass (dispatches, and TP talk where the model has it). */
  run(program: Program, hooks?: RunHooks): Promise<void> {
    this.master?.refresh();
    const fetch = this.gatherer?.forPass();
    return runProgram(this.ctx, program, this.tpCollectives, fetch ? { ...hooks, fetch } : hooks);
  }

  /** Writes the full flat parameter vector (e.g. from initFlat or a checkpoint); with ZeRO-3
   *  only this rank's shard of it is kept. */
  loadParams(flat: Float32Array): void {
    if (flat.length !== this.model.layout.total)
      throw new Error(`loadParams: got ${flat.length} values, model has ${this.model.layout.total}`);
    if (this.paramShard) {
      const { start, end } = this.optRange;
      const mine = new Float32Array(end - start);
      if (start < flat.length) mine.set(flat.subarray(start, Math.min(end, flat.length)));
      this.ctx.write(this.paramShard, mine);
    } else
      this.ctx.device.queue.writeBuffer(this.flatParams().buffer, 0, flat.buffer, flat.byteOffset, flat.byteLength);
    this.master?.changed();
  }

  /** The parameters this rank holds at rest: the padded flat vector, or with ZeRO-3 its shard. */
  get heldParams(): GpuTensor {
    return this.paramShard ?? this.flatParams(true);
  }

  /** Writes what heldParams reads (a state read from a trainer with the same layout and shard). */
  writeHeldParams(values: Float32Array): void {
    const held = this.heldParams;
    if (values.length !== held.length)
      throw new Error(`parameters: ${values.length} values, this rank holds ${held.length}`);
    this.ctx.write(held, values);
    this.master?.changed();
  }

  /** Writes Adam's moments for optRange (e.g. from a checkpoint). */
  loadMoments(m: Float32Array, v: Float32Array): void {
    const S = this.optRange.end - this.optRange.start;
    if (m.length !== S || v.length !== S)
      throw new Error(`loadMoments: got ${m.length} and ${v.length} values, this rank's optimizer holds ${S}`);
    this.ctx.write(this.m, m);
    this.ctx.write(this.v, v);
  }

  async readParams(): Promise<Float32Array> {
    return this.ctx.read(this.flatParams());
  }

  /** The whole flat parameter vector (layout.total). With ZeRO-3 a collective: every replica of
   *  this stage and shard must call it at the same point. */
  async readAllParams(): Promise<Float32Array> {
    // ZeRO-1/2 gathering in 16 bits: the master outside optRange holds the owners' values rounded
    if (!this.paramShard && !this.paramWire) return this.readParams();
    const gather = this.opts.zero?.gather;
    if (!gather) throw new Error('readAllParams: the ZeRO shards need a gather over the data-parallel group');
    const piece = new Float32Array(this.model.flatLength);
    piece.set(await this.readOptParams(), this.optRange.start);
    const all = await gather(piece, { offset: 0, total: piece.length });
    return all.subarray(0, this.model.layout.total);
  }

  async readGrads(padded = false): Promise<Float32Array> {
    return this.ctx.read(this.model.flat('grads', padded));
  }

  /** The f32 parameters in optRange (a ZeRO shard: what this rank's optimizer updates), on the GPU. */
  get optParams(): GpuTensor {
    if (this.paramShard) return this.paramShard;
    const t = this.flatParams(true);
    return { ...t, offset: this.optRange.start * 4, length: this.optRange.end - this.optRange.start };
  }

  /** The parameters in optRange (a ZeRO shard: what this rank's optimizer updated). */
  async readOptParams(): Promise<Float32Array> {
    return this.ctx.read(this.optParams);
  }

  async readMoments(): Promise<{ m: Float32Array; v: Float32Array }> {
    return { m: await this.ctx.read(this.m), v: await this.ctx.read(this.v) };
  }

  writeGrads(flat: Float32Array, offset = 0): void {
    if (this.gradShard) throw new Error(`writeGrads: ZeRO-${this.zeroStage} keeps no flat gradient vector`);
    if (offset + flat.length > this.model.flatLength)
      throw new Error(`writeGrads: ${flat.length} values at ${offset} overflow the model's ${this.model.flatLength}`);
    this.ctx.writeBuffer(this.model.grads, offset * 4, flat);
  }

  /** The f32 parameters were written on the device (not through writeParams): recast the 16-bit copy. */
  paramsChanged(): void {
    this.master?.changed();
  }

  writeParams(flat: Float32Array, offset = 0): void {
    if (this.paramShard) throw new Error('writeParams: ZeRO-3 keeps no flat parameter vector (writeHeldParams)');
    if (offset + flat.length > this.model.flatLength)
      throw new Error(`writeParams: ${flat.length} values at ${offset} overflow the model's ${this.model.flatLength}`);
    this.ctx.writeBuffer(this.flatParams(true).buffer, offset * 4, flat);
    this.master?.changed();
  }

  /** This step's dropout seed: every mask of the step derives from it and the global sample. */
  dropoutSeed(): number {
    return (this.opts.spec.seed * 7919 + this.step + 1) >>> 0;
  }

  /** Sets this step's learning rate and Adam bias corrections (both count only the optimizer
   *  steps applied, as DeepSpeed's LR scheduler and Adam do), and the loss scale; zeroes
   *  gradients, the loss sum and the overflow flag. */
  beginStep(): number {
    this.tpCollectives?.restart?.(`step${this.step}`);
    const applied = this.step - this.skippedSteps;
    const lr = learningRate(this.opts.schedule, applied);
    const t = applied + 1;
    if (this.mixed) {
      const scale = this.mixed.scaler.scale;
      this.ctx.write(this.lossFactors!, new Float32Array([scale, 1 / scale]));
      this.ctx.write(this.overflowFlag!, new Uint32Array([0]));
    }
    this.ctx.write(
      this.stepScalars,
      new Float32Array([lr, 1 - this.betaPowers[0] ** t, 1 - this.betaPowers[1] ** t, 0]),
    );
    const enc = this.ctx.device.createCommandEncoder();
    this.ctx.clear(enc, this.model.grads);
    if (this.gradShard) this.ctx.clear(enc, this.gradShard.buffer);
    this.ctx.clear(enc, this.lossSum.buffer);
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

  upload(
    mb: MicroBatch,
    slot = 0,
    parts: { tokens?: boolean; targets?: boolean } = { tokens: true, targets: true },
  ): void {
    const a = this.model.slots[slot].acts;
    const N = this.model.N;
    if (mb.tokens.length !== N || mb.targets.length !== N) {
      throw new Error(
        `micro-batch has ${mb.tokens.length} tokens and ${mb.targets.length} targets; the model expects ${N} (micro batch × seq_length)`,
      );
    }
    if (parts.tokens) {
      this.ctx.write(a.tokens, mb.tokens);
      this.ctx.write(a.buckets, this.model.prepareTokens(mb.tokens));
    }
    if (parts.targets) {
      const targets = this.model.prepareTargets(mb.targets);
      this.ctx.write(a.targets, targets);
      if (a.targetsOnHost) a.targetsOnHost.current = targets;
    }
    this.ctx.write(a.dropSeed, new Uint32Array([this.dropoutSeed(), (mb.firstSample ?? 0) >>> 0, 0, 0]));
  }

  /** forward + (last stage) loss accumulation, for activation slot k */
  forwardOf(k: number): Program {
    const b = new ProgramBuilder().append(this.model.slots[k].forward);
    const accumulate = this.accumulateLoss[k];
    if (accumulate) b.push(accumulate);
    return b.steps;
  }

  /** Forward + backward of every micro-batch, then the optimizer; resolves with the mean loss.
   *  The next call may come before this one resolves (a loop that keeps one step in flight, as
   *  PyTorch's asynchronous steps do): it starts once this step has queued all of its GPU work and
   *  readbacks, so the host records step n + 1 while the GPU finishes step n. Other calls that
   *  touch the GPU (evaluate, loadParams, checkpoint reads) must wait for the result. */
  trainStep(micro: readonly MicroBatch[], options: StepOptions = {}): Promise<StepResult> {
    const previous = this.stepQueued;
    let queued!: () => void;
    this.stepQueued = new Promise<void>((resolve) => {
      queued = resolve;
    });
    const result = previous.then(() => this.queueStep(micro, options));
    // the next step may start once this one's readbacks are queued, or once it failed
    result.then(
      () => queued(),
      () => queued(),
    );
    return result.then((finish) => finish());
  }

  /** One step's GPU work and readbacks, queued; returns what waits for the readbacks. */
  private async queueStep(micro: readonly MicroBatch[], options: StepOptions): Promise<() => Promise<StepResult>> {
    if (this.zeroStage >= 2)
      throw new Error(`trainStep: ZeRO-${this.zeroStage} reduces gradients during the backward (pipelineStep)`);
    if (micro.length !== this.opts.gradAccumSteps)
      throw new Error(
        `trainStep: got ${micro.length} micro-batches, gradient_accumulation_steps is ${this.opts.gradAccumSteps}`,
      );
    const lr = this.beginStep();
    const pass = new ProgramBuilder().append(this.forwardOf(0)).append(this.model.slots[0].backward).steps;
    for (const mb of micro) {
      this.upload(mb);
      await this.run(pass);
    }
    if (options.reduceGrads) await options.reduceGrads(this);
    this.ctx.run(this.normDispatches);
    const overflow = this.mixed ? (await this.readNormAndOverflow())[1] > 0 : false;
    if (!options.skipOptimizer && !overflow) this.applyUpdate();
    this.settleOverflow(overflow);
    const finished = this.finishStep(lr, micro.length, options.reduceLoss, options.skipOptimizer);
    return () => finished;
  }

  /** Mixed precision, after normDispatches: [Σ g² of this rank, 1 if its gradients overflowed]. */
  async readNormAndOverflow(): Promise<Float32Array> {
    const [sq, flag] = await this.ctx.readMany([this.gradSq, this.overflowFlag!]);
    return Float32Array.of(new Float32Array(sq)[0], new Uint32Array(flag)[0] > 0 ? 1 : 0);
  }

  /** After the optimizer ran or was skipped for an overflow (agreed by every rank): the loss
   *  scaler learns the outcome (an overflow at its minimum scale throws: the run stops). */
  settleOverflow(overflow: boolean): void {
    if (!this.mixed) return;
    this.lastStep = { lossScale: this.mixed.scaler.scale, overflow };
    if (overflow) this.skippedSteps++;
    this.mixed.scaler.update(overflow);
  }

  hostState(): TrainerHostState {
    const scaler = this.mixed?.scaler.state();
    return { step: this.step, skippedSteps: this.skippedSteps, ...(scaler ? { scaler } : {}) };
  }

  /** (Also after a state was written straight into heldParams' buffer: step undo.) */
  loadHostState(s: TrainerHostState): void {
    this.master?.changed();
    this.step = s.step;
    this.skippedSteps = s.skippedSteps;
    if (this.mixed && s.scaler) this.mixed.scaler.load(s.scaler);
  }

  /** Counts the step and reads back its mean loss and gradient norm. Everything but the wait
   *  for the readbacks happens before the first await (the readbacks are queued, the step's
   *  number and mixed-precision outcome taken), so a following step cannot change them. */
  async finishStep(
    lr: number,
    microBatches: number,
    reduceLoss?: (loss: number) => Promise<number>,
    skipped = false,
  ): Promise<StepResult> {
    if (!skipped) this.step++;
    const step = this.step;
    const mixed = this.lastStep ?? {};
    this.lastStep = null;
    const [lossTotal, gradSq] = await Promise.all([
      this.model.stage.hasHead ? this.readLossSum() : Promise.resolve(0),
      this.ctx.read(this.gradSq),
    ]);
    let loss = lossTotal / microBatches;
    if (reduceLoss) loss = await reduceLoss(loss);
    return { step, loss, lr, gradNorm: Math.sqrt(gradSq[0]), ...mixed };
  }

  /** Mean loss over the given batches, forward only (a whole model on this rank's TP group). */
  async evaluate(batches: readonly MicroBatch[]): Promise<number> {
    let total = 0;
    for (const mb of batches) {
      this.upload(mb);
      await this.run(this.model.slots[0].evalForward);
      const losses = await this.ctx.read(this.model.acts.losses);
      for (let i = 0; i < losses.length; i++) total += losses[i];
    }
    return total / (this.model.N * batches.length);
  }
}
