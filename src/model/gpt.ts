// The GPT on one rank: parameter/gradient buffers and, per activation slot, the recorded
// forward and backward Programs for a micro-batch of B sequences. Built once; run every step.
// The rank holds a pipeline stage (a range of layers, maybe the embedding and the head; under
// interleaved 1F1B several model chunks, each a range of layers with passes of its own) and
// a tensor-parallel part of each of its tensors (see tp-shard.ts, gpt-passes.ts).
// Legend: B batch, T sequence, C hidden, H heads, hd head dim, F MLP size, V vocab, N = B*T.

import type { GpuContext } from '../gpu/context';
import type { GpuTensor } from '../gpu/tensor';
import { bucketTokens, type VocabRows } from '../gpu/kernels/embedding';
import type { RotarySpec } from '../gpu/kernels/attention';
import { type Arithmetic, arithmeticFor, hasShaderF16, type LinearWeight } from '../gpu/kernels/matmul-f16';
import type { HalfFormat } from '../train/precision';
import { allocActivationSet } from './activation-set';
import { localDims, type Acts, type AttentionBackward, type LayerActs, type LocalDims } from './activations';
import {
  embeddingBackwardPass,
  embeddingForwardPass,
  headBackwardPass,
  headForwardPass,
  layerBackwardPass,
  layerForwardPass,
  type PassContext,
} from './gpt-passes';
import type { NormParams } from './norm';
import { fullModel, layoutParams, stageChunks, stageParamDefs, type ParamLayout, type StageRange } from './params';
import { packStash, unpackStash } from './half-activations';
import { HalfWeights, layerLinearWeights } from './half-weights';
import { paramWindow, REST, windowOffset, type ParamWindow } from './param-window';
import { ProgramBuilder, type Program } from './program';
import { seqPlace, type SeqPlace } from './sequence-parallel';
import type { ModelSpec } from './spec';
import { NO_TP, vocabRange, type TpPlace } from './tp-shard';
import { localTargets } from './vocab-parallel';

export interface GptOptions {
  /** the part of the model this rank holds (pipeline parallelism); default: all of it */
  stage?: StageRange;
  /** independent activation sets per model chunk, one per micro-batch in flight (1F1B keeps up to P − s) */
  slots?: number;
  /** this rank's place in its tensor-parallel group; default: no tensor parallelism */
  tp?: TpPlace;
  /** activation recompute (NeoX checkpoint_activations): recompute chunks of this many layers in the backward pass */
  recomputeLayers?: number;
  /** the flat parameter/gradient buffers' length for the layout's `total` elements (ZeRO pads it); default: total */
  flatLength?: (total: number) => number;
  /** how the attention runs without kept probabilities (activations.ts fusionFor); default: chosen by size */
  attentionBackward?: AttentionBackward;
  /** mixed precision: (2) [loss scale, 1 / loss scale], rewritten each step; the backward
   *  multiplies dL/dlogits by element 0 */
  lossScaleFactors?: GpuTensor;
  /** Megatron's sequence parallelism inside the TP group (NeoX sequence_parallel); no effect without TP */
  sequenceParallel?: boolean;
  /** ZeRO-2 (grads) and ZeRO-3 (params too): that buffer is a window (param-window.ts), not the
   *  flat vector: the backward clears the layer region before each layer, and with params the
   *  passes fetch each layer's parameters before they use them */
  window?: { params: boolean; grads: boolean };
  /** mixed precision's 16-bit storage (parallel/half-storage.ts): `weights`, the passes read the
   *  parameters from a packed 16-bit copy (`halfWeights.packed`), unpacked into the parameter
   *  window before use; `activations`, each layer's saved tensors are kept packed */
  half?: { format: HalfFormat; weights: boolean; activations: boolean };
  /** the linear layers' products: default f16 for fp16 on a device with shader-f16, else f32
   *  (gpu/kernels/matmul-f16.ts arithmeticFor); 'f16' without shader-f16 throws */
  arithmetic?: Arithmetic;
  /** f16 arithmetic with fp16 weights: the layers' linear weights are read straight from the
   *  packed copy, never unpacked into the window (default true; false: through the window) */
  readPackedWeights?: boolean;
}

export interface Slot {
  acts: Acts;
  /** the training forward (with dropout) and its backward */
  forward: Program;
  backward: Program;
  /** the forward for evaluation: no dropout (the training forward when the model has none) */
  evalForward: Program;
  /** the model chunk these passes run (0 without interleaving) and the part of the model it is */
  chunk: number;
  range: StageRange;
}

export class Gpt {
  readonly layout: ParamLayout;
  /** the flat vector (flatLength), or the window (window.length) where `windowed` says */
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly stage: StageRange;
  /** the stage's model chunks (one without interleaving) */
  readonly chunks: StageRange[];
  /** activation sets; `slots` holds each chunk's passes on each set, chunk-major (see slotIndex) */
  readonly slotsPerChunk: number;
  readonly tp: TpPlace;
  readonly dims: LocalDims;
  readonly vocab: VocabRows;
  /** elements in the flat buffers: layout.total, or more when padded */
  readonly flatLength: number;
  readonly slots: Slot[] = [];
  readonly N: number;
  /** sequence parallelism: this rank's positions (null without it, or without TP) */
  readonly seq: SeqPlace | null;
  /** token rows this rank holds of the norm/dropout/residual tensors, the stage input and output: N, or B·T/tp */
  readonly rows: number;
  /** bytes of activation buffers (all slots + the scratch they share), as allocated */
  readonly activationBytes: number;
  readonly window: ParamWindow;
  readonly windowed: { params: boolean; grads: boolean };
  /** the packed 16-bit working copy the parameter window is filled from (null: f32 weights) */
  readonly halfWeights: HalfWeights | null;
  /** the format each layer's saved activations are packed in (null: f32 activations) */
  readonly halfActivations: HalfFormat | null;
  /** how the linear layers' products are computed (matmul-f16.ts) */
  readonly arithmetic: Arithmetic;
  /** the layers' linear weights the products read packed (half-weights.ts), never unpacked */
  readonly packedReads: ReadonlySet<string>;

  constructor(
    readonly ctx: GpuContext,
    readonly spec: ModelSpec,
    readonly B: number,
    lossScale: number,
    opts: GptOptions = {},
  ) {
    this.stage = opts.stage ?? fullModel(spec);
    this.tp = opts.tp ?? NO_TP;
    this.dims = localDims(spec, this.tp.size);
    this.vocab = vocabRange(spec.V, this.tp);
    this.layout = layoutParams(stageParamDefs(spec, this.stage, this.tp.size));
    this.flatLength = Math.max(this.layout.total, opts.flatLength?.(this.layout.total) ?? 0);
    this.window = paramWindow(this.layout);
    const half = opts.half;
    this.arithmetic = opts.arithmetic ?? arithmeticFor(ctx, half?.format);
    if (this.arithmetic === 'f16' && !hasShaderF16(ctx))
      throw new Error(
        `Gpt: f16 arithmetic needs a device with shader-f16 (this one: ${ctx.adapter?.description ?? '?'})`,
      );
    if (half?.weights && opts.window?.params)
      throw new Error("16-bit weights and ZeRO-3's gathered window cannot fill the same parameter window");
    this.windowed = { params: false, grads: false, ...opts.window };
    if (half?.weights) this.windowed.params = true;
    const elems = (w: boolean) => (w ? this.window.length : this.flatLength);
    this.params = ctx.createBuffer(elems(this.windowed.params) * 4, this.windowed.params ? 'params.window' : 'params');
    const packed =
      half?.weights && half.format === 'fp16' && this.arithmetic === 'f16' && opts.readPackedWeights !== false;
    const reads = packed ? layerLinearWeights(this.layout) : [];
    this.packedReads = new Set(reads.map((s) => s.name));
    this.halfWeights = half?.weights
      ? new HalfWeights(ctx, half.format, this.window, this.params, this.flatLength, reads)
      : null;
    this.grads = ctx.createBuffer(elems(this.windowed.grads) * 4, this.windowed.grads ? 'grads.window' : 'grads');
    this.N = B * spec.T;
    this.seq = opts.sequenceParallel && this.tp.size > 1 ? seqPlace(B, spec.T, this.tp) : null;
    this.rows = this.seq?.rows ?? this.N;
    this.chunks = stageChunks(this.stage);
    this.slotsPerChunk = opts.slots ?? 1;
    const layersOf = (r: StageRange) => r.endLayer - r.firstLayer;
    // the activation sets are made for the stage's largest model chunk
    const numLayers = Math.max(...this.chunks.map(layersOf));
    const before = ctx.bytesAllocated;
    const sets = allocActivationSet(ctx, spec, this.dims, B, {
      slots: opts.slots ?? 1,
      numLayers,
      recomputeLayers: opts.recomputeLayers ?? 0,
      attentionBackward: opts.attentionBackward,
      seq: this.seq,
      half: !!half?.activations,
    });
    this.halfActivations = half?.activations ? half.format : null;
    // the activation buffers only: kernels' own workspaces made while recording are not counted
    this.activationBytes = ctx.bytesAllocated - before;
    const pass = this.passContext(lossScale, true, opts.lossScaleFactors);
    const evalPass = this.passContext(lossScale, false);
    const hasDropout = spec.hiddenDropout > 0 || spec.attentionDropout > 0;
    const chunk = opts.recomputeLayers ? Math.min(opts.recomputeLayers, numLayers) : 0;
    // under interleaving every model chunk records its passes on every set, and the schedule gives
    // each (microbatch, chunk) a free one (parallel/slots.ts)
    for (const [c, range] of this.chunks.entries()) {
      for (const set of sets) {
        const acts = { ...set, layers: set.layers.slice(0, layersOf(range)) };
        const forward = this.recordForward(pass, acts, range, true);
        this.slots.push({
          acts,
          forward,
          backward: this.recordBackward(pass, acts, range, chunk),
          evalForward: hasDropout ? this.recordForward(evalPass, acts, range, false) : forward,
          chunk: c,
          range,
        });
      }
    }
  }

  get acts(): Acts {
    return this.slots[0].acts;
  }

  /** Index in `slots` of activation slot k of model chunk `chunk`. */
  slotIndex(chunk: number, k: number): number {
    return chunk * this.slotsPerChunk + k;
  }

  /** Slot 0 of the chunk that holds the head (the stage's last): where losses and logits are. */
  get headSlot(): Slot {
    return this.slots[this.slotIndex(this.chunks.length - 1, 0)];
  }

  /** The stage's input activation (rows, C): received from the previous stage when it has no embedding. */
  inputOf(slot: number): GpuTensor {
    return this.inputOfActs(this.slots[slot].acts);
  }

  /** A linear layer's weight as its products read it: packed fp16 (packedReads), else param(name). */
  linearWeight(name: string): LinearWeight {
    const slot = this.layout.byName.get(name);
    return slot && this.packedReads.has(name) && this.halfWeights ? this.halfWeights.view(slot) : this.param(name);
  }

  /** View of a parameter (or its gradient) inside the flat buffer. */
  param(name: string, grad = false): GpuTensor {
    const slot = this.layout.byName.get(name);
    if (!slot) throw new Error(`model has no parameter ${name}`);
    const inWindow = grad ? this.windowed.grads : this.windowed.params;
    const at = inWindow ? windowOffset(this.window, slot.offset, slot.offset + slot.length) : slot.offset;
    return {
      buffer: grad ? this.grads : this.params,
      offset: at * 4,
      length: slot.length,
      shape: slot.shape,
      name: (grad ? 'd' : '') + name,
    };
  }

  /** The whole flat buffer (layout.total elements, or `flatLength` with `padded`). */
  flat(which: 'params' | 'grads', padded = false): GpuTensor {
    if (this.windowed[which]) throw new Error(`the model's ${which} are a ZeRO window, not the flat vector`);
    const length = padded ? this.flatLength : this.layout.total;
    return { buffer: which === 'params' ? this.params : this.grads, offset: 0, length, shape: [length], name: which };
  }

  /** Token ids as this rank's buffers want them: the embedding's buckets over its vocabulary
   *  rows, and targets numbered within its vocabulary shard. */
  prepareTokens(tokens: Int32Array): Int32Array {
    return bucketTokens(tokens, this.vocab);
  }
  prepareTargets(targets: Int32Array): Int32Array {
    return this.tp.size > 1 ? localTargets(targets, this.vocab) : targets;
  }

  private passContext(lossScale: number, dropout: boolean, lossScaleFactors?: GpuTensor): PassContext {
    const s = this.spec;
    const norm = (prefix: string): NormParams => {
      const hasBias = s.norm === 'layernorm';
      return {
        w: this.param(`${prefix}.weight`),
        dw: this.param(`${prefix}.weight`, true),
        b: hasBias ? this.param(`${prefix}.bias`) : null,
        db: hasBias ? this.param(`${prefix}.bias`, true) : null,
      };
    };
    const rotary = (): RotarySpec | null => (s.posEmb === 'rotary' ? { dims: s.rotaryDims, base: s.rotaryBase } : null);
    return {
      ctx: this.ctx,
      spec: s,
      B: this.B,
      N: this.N,
      tp: this.tp,
      dims: this.dims,
      vocab: this.vocab,
      lossScale,
      lossScaleFactors,
      arithmetic: this.arithmetic,
      dropout,
      seq: this.seq,
      param: (name, grad) => this.param(name, grad),
      weight: (name) => this.linearWeight(name),
      norm,
      rotary,
      headWeight: (grad) => this.param(s.tied ? 'embed.wte' : 'head.weight', grad),
    };
  }

  private layerOutput(a: Acts, j: number): GpuTensor {
    return j + 1 < a.layers.length ? a.layers[j + 1].x : a.xFinal;
  }

  /** The window region the backward clears before each layer's gradients accumulate in it. */
  private layerGradRegion(): GpuTensor {
    const { restLength, layerLength } = this.window;
    return { buffer: this.grads, offset: restLength * 4, length: layerLength, shape: [layerLength], name: 'dlayer' };
  }

  /** Emits a fetch of `unit` into `b` where the parameter window does not hold it already: the
   *  unpack dispatches of the 16-bit working copy, or (ZeRO-3) a fetch step the trainer fills. */
  private fetcher(b: ProgramBuilder): (unit: number) => void {
    let resident: number | null = null;
    return (unit) => {
      if (!this.windowed.params || unit === resident) return;
      if (unit !== REST) resident = unit;
      if (this.halfWeights) b.push(...this.halfWeights.fetch(unit));
      else b.fetch(unit);
    };
  }

  /** `training`: a backward follows, so 16-bit activations are packed after each layer. */
  private recordForward(m: PassContext, a: Acts, range: StageRange, training: boolean): Program {
    const b = new ProgramBuilder();
    const first = range.firstLayer;
    const need = this.fetcher(b);
    if (this.window.restLength > 0) need(REST);
    if (range.hasEmbedding) embeddingForwardPass(m, b, a, this.inputOfActs(a));
    a.layers.forEach((A: LayerActs, j) => {
      need(first + j);
      layerForwardPass(m, b, a, A, first + j, this.layerOutput(a, j));
      if (training && A.stash && this.halfActivations) b.push(...packStash(this.ctx, A.stash, this.halfActivations));
    });
    if (range.hasHead) headForwardPass(m, b, a);
    return b.steps;
  }

  /** a.dx is zeroed first on the last stage and holds the next stage's gradient otherwise;
   *  afterwards it holds dL/d(stage input). With recompute, each chunk of layers is run
   *  forward again (from its saved input) just before its backward. */
  private recordBackward(m: PassContext, a: Acts, range: StageRange, chunk: number): Program {
    const b = new ProgramBuilder();
    const first = range.firstLayer;
    const need = this.fetcher(b);
    if (this.window.restLength > 0) need(REST);
    if (range.hasHead) {
      b.clear(a.dx);
      headBackwardPass(m, b, a);
      // a stage with the embedding adds to a tied embed.wte again in its embedding backward
      b.mark(
        this.paramNames(
          (n) => n.startsWith('final_norm.') || n === 'head.weight' || (n === 'embed.wte' && !this.stage.hasEmbedding),
        ),
      );
    }
    const n = a.layers.length,
      k = chunk || n;
    const unpack = (A: LayerActs) => {
      if (A.stash && this.halfActivations) b.push(...unpackStash(this.ctx, A.stash, this.halfActivations));
    };
    for (let start = Math.floor((n - 1) / k) * k; n > 0 && start >= 0; start -= k) {
      const end = Math.min(n, start + k);
      if (chunk) {
        unpack(a.layers[start]); // 16-bit activations: the chunk's saved input
        for (let j = start; j < end; j++) {
          need(first + j);
          layerForwardPass(m, b, a, a.layers[j], first + j, this.layerOutput(a, j));
        }
      }
      for (let j = end - 1; j >= start; j--) {
        need(first + j);
        if (this.windowed.grads) b.clear(this.layerGradRegion());
        const A = a.layers[j];
        if (!chunk) unpack(A); // 16-bit activations: what the layer's backward reads
        layerBackwardPass(m, b, a, A, first + j);
        b.mark(this.paramNames((name) => name.startsWith(`layers.${first + j}.`)));
      }
    }
    if (range.hasEmbedding) {
      embeddingBackwardPass(m, b, a);
      b.mark(this.paramNames((name) => name.startsWith('embed.')));
    }
    return b.steps;
  }

  private paramNames(which: (name: string) => boolean): string[] {
    return this.layout.slots.filter((s) => which(s.name)).map((s) => s.name);
  }

  private inputOfActs(a: Acts): GpuTensor {
    return a.layers.length ? a.layers[0].x : a.xFinal;
  }
}
