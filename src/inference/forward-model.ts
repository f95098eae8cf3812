// A forward-only GPT on one device, for evaluation and generation: the model's own recorded
// passes (embedding, layers, head; src/model/gpt-passes.ts) over parameters in the single-rank
// flat layout, without gradients, backward programs or per-layer saved activations — the
// layers take turns in two sets of activation buffers. Fixed shape (B, T); dropout off.
// Legend: B batch, T sequence, C hidden, V padded vocabulary, N = B*T.

import type { GpuContext } from '../gpu/context';
import type { RotarySpec } from '../gpu/kernels/attention';
import { bucketCapacity, bucketTokens, type VocabRows } from '../gpu/kernels/embedding';
import type { GpuTensor } from '../gpu/tensor';
import { layerActs, localDims, type Acts, type Alloc } from '../model/activations';
import { embeddingForwardPass, headForwardPass, layerForwardPass, type PassContext } from '../model/gpt-passes';
import type { NormParams } from '../model/norm';
import { fullModel, layoutParams, stageParamDefs, type ParamLayout } from '../model/params';
import { ProgramBuilder, type Program } from '../model/program';
import { runProgram } from '../model/run-program';
import type { ModelSpec } from '../model/spec';
import { NO_TP } from '../model/tp-shard';

export class ForwardModel {
  readonly spec: ModelSpec;
  readonly layout: ParamLayout;
  readonly params: GPUBuffer;
  readonly N: number;
  readonly acts: Acts;
  readonly program: Program;
  private readonly vocab: VocabRows;

  /** `spec.T` is the window length; dropout is turned off. */
  constructor(
    readonly ctx: GpuContext,
    spec: ModelSpec,
    readonly B: number,
  ) {
    if (spec.posEmb === 'learned' && spec.T > spec.maxPos)
      throw new Error(`seq_length ${spec.T} is more than the model's ${spec.maxPos} learned positions`);
    this.spec = { ...spec, hiddenDropout: 0, attentionDropout: 0 };
    this.layout = layoutParams(stageParamDefs(this.spec, fullModel(this.spec), 1));
    this.params = ctx.createBuffer(this.layout.total * 4, 'params');
    this.N = B * spec.T;
    this.vocab = { start: 0, count: spec.V };
    this.acts = this.allocActs();
    this.program = this.record();
  }

  /** The flat parameters (single-rank layout, e.g. tensorsToFlat). */
  load(flat: Float32Array): void {
    if (flat.length !== this.layout.total)
      throw new Error(`ForwardModel.load: ${flat.length} values, the layout has ${this.layout.total}`);
    this.ctx.device.queue.writeBuffer(this.params, 0, flat.buffer, flat.byteOffset, flat.byteLength);
  }

  /** Runs the model on (B*T) tokens; targets (−1 = ignored) give per-token losses. */
  async forward(tokens: Int32Array, targets?: Int32Array): Promise<void> {
    if (tokens.length !== this.N) throw new Error(`forward: ${tokens.length} tokens, the model takes ${this.N}`);
    for (let i = 0; i < tokens.length; i++)
      if (tokens[i] < 0 || tokens[i] >= this.spec.V)
        throw new Error(`token id ${tokens[i]} at position ${i} is outside the vocabulary [0, ${this.spec.V})`);
    this.ctx.write(this.acts.tokens, tokens);
    this.ctx.write(this.acts.buckets, bucketTokens(tokens, this.vocab));
    this.ctx.write(this.acts.targets, targets ?? new Int32Array(this.N).fill(-1));
    await runProgram(this.ctx, this.program, null);
  }

  /** (N) cross-entropy of each position's target (0 where ignored). */
  losses(): Promise<Float32Array> {
    return this.ctx.read(this.acts.losses);
  }

  /** (N, V) all logits. */
  logits(): Promise<Float32Array> {
    return this.ctx.read(this.acts.logits);
  }

  /** (V) the logits of row `row` (b*T + t). */
  logitsRow(row: number): Promise<Float32Array> {
    const V = this.spec.V;
    const l = this.acts.logits;
    return this.ctx.read({ ...l, offset: l.offset + row * V * 4, length: V, shape: [V] });
  }

  private param(name: string): GpuTensor {
    const slot = this.layout.byName.get(name);
    if (!slot) throw new Error(`model has no parameter ${name}`);
    return { buffer: this.params, offset: slot.offset * 4, length: slot.length, shape: slot.shape, name };
  }

  private allocActs(): Acts {
    const { ctx, spec: s, B } = this;
    const d = localDims(s, 1);
    const t: Alloc = (name, ...shape) => ctx.tensor(shape, `fwd.${name}`);
    // buffers only the backward pass uses: the forward programs never bind them
    const unused = ctx.tensor([1], 'fwd.unused');
    const sets = [layerActs(t, s, d, B, 'A.', null), layerActs(t, s, d, B, 'B.', null)];
    const N = this.N,
      V = s.V;
    return {
      tokens: t('tokens', N),
      targets: t('targets', N),
      buckets: t('buckets', bucketCapacity(N)),
      layers: Array.from({ length: s.L }, (_, l) => sets[l % 2]),
      xFinal: t('xFinal', N, s.C),
      lnf: t('lnf', N, s.C),
      lnfMean: t('lnfMean', N),
      lnfRstd: t('lnfRstd', N),
      logits: t('logits', N, V),
      losses: t('losses', N),
      lse: t('lse', N),
      targetLogit: unused,
      dx: unused,
      dxSaved: unused,
      dBranch: unused,
      dln: unused,
      dqkv: unused,
      dq: unused,
      dk: unused,
      dv: unused,
      datt: unused,
      dyh: unused,
      dy: unused,
      dh: unused,
      dg: unused,
      dlogits: unused,
      dropSeed: t('dropSeed', 4),
    };
  }

  private record(): Program {
    const s = this.spec;
    const norm = (prefix: string): NormParams => {
      const w = this.param(`${prefix}.weight`);
      const b = s.norm === 'layernorm' ? this.param(`${prefix}.bias`) : null;
      return { w, b, dw: w, db: b };
    };
    const rotary = (): RotarySpec | null => (s.posEmb === 'rotary' ? { dims: s.rotaryDims, base: s.rotaryBase } : null);
    const m: PassContext = {
      ctx: this.ctx,
      spec: s,
      B: this.B,
      N: this.N,
      tp: NO_TP,
      dims: localDims(s, 1),
      vocab: this.vocab,
      lossScale: 1,
      arithmetic: 'f32',
      dropout: false,
      param: (name) => this.param(name),
      weight: (name) => this.param(name),
      norm,
      rotary,
      headWeight: () => this.param(s.tied ? 'embed.wte' : 'head.weight'),
    };
    const a = this.acts;
    const b = new ProgramBuilder();
    const input = a.layers.length ? a.layers[0].x : a.xFinal;
    embeddingForwardPass(m, b, a, input);
    a.layers.forEach((A, l) => layerForwardPass(m, b, a, A, l, l + 1 < a.layers.length ? a.layers[l + 1].x : a.xFinal));
    headForwardPass(m, b, a);
    return b.steps;
  }
}
