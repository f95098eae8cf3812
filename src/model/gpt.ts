// The GPT on one rank: parameter/gradient buffers and the recorded forward and backward
// dispatch lists for a micro-batch of B sequences. Built once; re-encoded every step.
// Legend: B batch, T sequence, C hidden, H heads, hd head dim, F MLP size, V vocab, N = B*T.

import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import { add, addInto, copy } from '../gpu/kernels/elementwise';
import { bucketCapacity, embeddingBackward, embeddingForward, positionEmbeddingBackward } from '../gpu/kernels/embedding';
import { geluBackward, geluForward } from '../gpu/kernels/gelu';
import { matmul } from '../gpu/kernels/matmul';
import { causalSoftmaxBackward, causalSoftmaxForward, mergeHeads, qkvSplitBackward, qkvSplitForward, splitHeads, type RotarySpec } from '../gpu/kernels/attention';
import { crossEntropyBackward, crossEntropyForward } from '../gpu/kernels/crossentropy';
import { dropoutBackward, dropoutForward } from '../gpu/kernels/dropout';
import { allocActs, type Acts } from './activations';
import { linearBackward, linearForward } from './linear';
import { normBackward, normForward, type NormParams } from './norm';
import { fullModel, layoutParams, stageParamDefs, type ParamLayout, type StageRange } from './params';
import type { ModelSpec } from './spec';

export interface GptBuffers {
  params: GPUBuffer;
  grads: GPUBuffer;
}

export interface GptOptions {
  /** the part of the model this rank holds (pipeline parallelism); default: all of it */
  stage?: StageRange;
  /** independent activation sets, one per micro-batch in flight (1F1B keeps up to P − s) */
  slots?: number;
}

export class Gpt {
  readonly layout: ParamLayout;
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  readonly stage: StageRange;
  /** per slot: activations, forward and backward dispatch lists */
  readonly slots: { acts: Acts; forward: Dispatch[]; backward: Dispatch[] }[] = [];
  readonly N: number;

  constructor(readonly ctx: GpuContext, readonly spec: ModelSpec, readonly B: number, lossScale: number, opts: GptOptions = {}) {
    this.stage = opts.stage ?? fullModel(spec);
    this.layout = layoutParams(stageParamDefs(spec, this.stage));
    this.params = ctx.createBuffer(this.layout.total * 4, 'params');
    this.grads = ctx.createBuffer(this.layout.total * 4, 'grads');
    this.N = B * spec.T;
    const numLayers = this.stage.endLayer - this.stage.firstLayer;
    for (let k = 0; k < (opts.slots ?? 1); k++) {
      const slot = { acts: allocActs(ctx, spec, B, bucketCapacity(this.N), numLayers, `s${k}.`), forward: [] as Dispatch[], backward: [] as Dispatch[] };
      this.record(slot, lossScale);
      this.slots.push(slot);
    }
  }

  get acts(): Acts { return this.slots[0].acts; }
  get forward(): Dispatch[] { return this.slots[0].forward; }
  get backward(): Dispatch[] { return this.slots[0].backward; }

  /** The stage's input activation (N, C): received from the previous stage when it has no embedding. */
  inputOf(slot: number): GpuTensor {
    const a = this.slots[slot].acts;
    return a.layers.length ? a.layers[0].x : a.xFinal;
  }

  /** View of a parameter (or its gradient) inside the flat buffer. */
  param(name: string, grad = false): GpuTensor {
    const slot = this.layout.byName.get(name);
    if (!slot) throw new Error(`model has no parameter ${name}`);
    return { buffer: grad ? this.grads : this.params, offset: slot.offset * 4, length: slot.length, shape: slot.shape, name: (grad ? 'd' : '') + name };
  }

  flat(which: 'params' | 'grads'): GpuTensor {
    return { buffer: which === 'params' ? this.params : this.grads, offset: 0, length: this.layout.total, shape: [this.layout.total], name: which };
  }

  private norm(prefix: string): NormParams {
    const hasBias = this.spec.norm === 'layernorm';
    return {
      w: this.param(`${prefix}.weight`), dw: this.param(`${prefix}.weight`, true),
      b: hasBias ? this.param(`${prefix}.bias`) : null, db: hasBias ? this.param(`${prefix}.bias`, true) : null,
    };
  }

  private rotary(): RotarySpec | null {
    return this.spec.posEmb === 'rotary' ? { dims: this.spec.rotaryDims, base: this.spec.rotaryBase } : null;
  }

  private record(slot: { acts: Acts; forward: Dispatch[]; backward: Dispatch[] }, lossScale: number): void {
    const { ctx, spec: s, N, B, stage } = this;
    const a = slot.acts;
    const { C, F, H, hd, T, V } = s;
    const BH = B * H, scale = 1 / Math.sqrt(hd);
    const fw = slot.forward, bw = slot.backward;
    const first = stage.firstLayer, end = stage.endLayer;
    const hp = s.hiddenDropout, ap = s.attentionDropout;
    const stream = (l: number, site: number) => l * 8 + site + 8;
    const wte = stage.hasEmbedding || (stage.hasHead && s.tied) ? this.param('embed.wte') : null;
    const wpe = stage.hasEmbedding && s.posEmb === 'learned' ? this.param('embed.wpe') : null;

    // ---- forward ----
    const x0 = a.layers.length ? a.layers[0].x : a.xFinal;
    if (stage.hasEmbedding) {
      fw.push(embeddingForward(ctx, a.tokens, wte!, wpe, x0, T, C));
      if (hp > 0) fw.push(dropoutForward(ctx, x0, hp, a.dropSeed, 0));
    }
    for (let l = first; l < end; l++) {
      const A = a.layers[l - first], p = `layers.${l}`;
      const xNext = l + 1 < end ? a.layers[l - first + 1].x : a.xFinal;
      const attSrc = A.attDrop ?? A.att;
      fw.push(...normForward(ctx, s, this.norm(`${p}.ln1`), A.x, A.ln1, A.ln1Mean, A.ln1Rstd, N));
      fw.push(...linearForward(ctx, A.ln1, this.param(`${p}.attn.qkv.weight`), this.param(`${p}.attn.qkv.bias`), A.qkv, N, C, 3 * C));
      fw.push(qkvSplitForward(ctx, A.qkv, A.q, A.k, A.v, B, T, H, hd, this.rotary()));
      fw.push(matmul(ctx, A.q, A.k, A.att, { batch: BH, M: T, N: T, K: hd, transB: true }));
      fw.push(causalSoftmaxForward(ctx, A.att, BH, T, scale));
      if (A.attDrop) fw.push(copy(ctx, A.att, A.attDrop), dropoutForward(ctx, A.attDrop, ap, a.dropSeed, stream(l, 0)));
      fw.push(matmul(ctx, attSrc, A.v, A.yh, { batch: BH, M: T, N: hd, K: T }));
      fw.push(mergeHeads(ctx, A.yh, A.y, B, T, H, hd));
      fw.push(...linearForward(ctx, A.y, this.param(`${p}.attn.dense.weight`), this.param(`${p}.attn.dense.bias`), A.attnOut, N, C, C));
      if (hp > 0) fw.push(dropoutForward(ctx, A.attnOut, hp, a.dropSeed, stream(l, 1)));
      const mlpIn = s.parallelResidual ? A.x : A.xMid;
      if (!s.parallelResidual) fw.push(add(ctx, A.x, A.attnOut, A.xMid));
      fw.push(...normForward(ctx, s, this.norm(`${p}.ln2`), mlpIn, A.ln2, A.ln2Mean, A.ln2Rstd, N));
      fw.push(...linearForward(ctx, A.ln2, this.param(`${p}.mlp.up.weight`), this.param(`${p}.mlp.up.bias`), A.h, N, C, F));
      fw.push(geluForward(ctx, A.h, A.g));
      fw.push(...linearForward(ctx, A.g, this.param(`${p}.mlp.down.weight`), this.param(`${p}.mlp.down.bias`), A.mlpOut, N, F, C));
      if (hp > 0) fw.push(dropoutForward(ctx, A.mlpOut, hp, a.dropSeed, stream(l, 2)));
      if (s.parallelResidual) fw.push(add(ctx, A.x, A.attnOut, xNext), addInto(ctx, xNext, A.mlpOut));
      else fw.push(add(ctx, A.xMid, A.mlpOut, xNext));
    }
    if (stage.hasHead) {
      const headW = s.tied ? wte! : this.param('head.weight');
      fw.push(...normForward(ctx, s, this.norm('final_norm'), a.xFinal, a.lnf, a.lnfMean, a.lnfRstd, N));
      fw.push(matmul(ctx, a.lnf, headW, a.logits, { M: N, N: V, K: C, transB: true }));
      fw.push(crossEntropyForward(ctx, a.logits, a.targets, a.losses, a.lse, N, V));
    }

    // ---- backward: a.dx is zeroed before this list runs on the last stage, and holds the
    // gradient received from the next stage otherwise; afterwards it holds dL/d(input) ----
    if (stage.hasHead) {
      const headW = s.tied ? wte! : this.param('head.weight');
      const dHeadW = s.tied ? this.param('embed.wte', true) : this.param('head.weight', true);
      bw.push(crossEntropyBackward(ctx, a.logits, a.targets, a.lse, a.dlogits, N, V, lossScale));
      bw.push(...linearBackward(ctx, a.dlogits, a.lnf, headW, dHeadW, null, a.dln, N, C, V));
      bw.push(...normBackward(ctx, s, this.norm('final_norm'), a.dln, a.xFinal, a.lnfMean, a.lnfRstd, a.dx, N));
    }
    for (let l = end - 1; l >= first; l--) {
      const A = a.layers[l - first], p = `layers.${l}`;
      const mlpIn = s.parallelResidual ? A.x : A.xMid;
      // dx holds dL/d(x_next). The parallel residual feeds the same gradient to both branches.
      const dOut = s.parallelResidual ? a.dxSaved : a.dx;
      if (s.parallelResidual) bw.push(copy(ctx, a.dx, a.dxSaved));
      // MLP branch
      let dMlp = dOut;
      if (hp > 0) { bw.push(copy(ctx, dOut, a.dBranch), dropoutBackward(ctx, a.dBranch, hp, a.dropSeed, stream(l, 2))); dMlp = a.dBranch; }
      bw.push(...linearBackward(ctx, dMlp, A.g, this.param(`${p}.mlp.down.weight`), this.param(`${p}.mlp.down.weight`, true), this.param(`${p}.mlp.down.bias`, true), a.dg, N, F, C));
      bw.push(geluBackward(ctx, A.h, a.dg, a.dh));
      bw.push(...linearBackward(ctx, a.dh, A.ln2, this.param(`${p}.mlp.up.weight`), this.param(`${p}.mlp.up.weight`, true), this.param(`${p}.mlp.up.bias`, true), a.dln, N, C, F));
      bw.push(...normBackward(ctx, s, this.norm(`${p}.ln2`), a.dln, mlpIn, A.ln2Mean, A.ln2Rstd, a.dx, N));
      // now dx = dL/d(mlpIn) (sequential: x_mid; parallel: partial dL/dx)
      // attention branch
      let dAttn = s.parallelResidual ? dOut : a.dx;
      if (hp > 0) { bw.push(copy(ctx, dAttn, a.dBranch), dropoutBackward(ctx, a.dBranch, hp, a.dropSeed, stream(l, 1))); dAttn = a.dBranch; }
      bw.push(...linearBackward(ctx, dAttn, A.y, this.param(`${p}.attn.dense.weight`), this.param(`${p}.attn.dense.weight`, true), this.param(`${p}.attn.dense.bias`, true), a.dy, N, C, C));
      bw.push(splitHeads(ctx, a.dy, a.dyh, B, T, H, hd));
      bw.push(matmul(ctx, a.dyh, A.v, a.datt, { batch: BH, M: T, N: T, K: hd, transB: true }));
      bw.push(matmul(ctx, A.attDrop ?? A.att, a.dyh, a.dv, { batch: BH, M: T, N: hd, K: T, transA: true }));
      if (A.attDrop) bw.push(dropoutBackward(ctx, a.datt, ap, a.dropSeed, stream(l, 0)));
      bw.push(causalSoftmaxBackward(ctx, A.att, a.datt, BH, T, scale));
      bw.push(matmul(ctx, a.datt, A.k, a.dq, { batch: BH, M: T, N: hd, K: T }));
      bw.push(matmul(ctx, a.datt, A.q, a.dk, { batch: BH, M: T, N: hd, K: T, transA: true }));
      bw.push(qkvSplitBackward(ctx, a.dq, a.dk, a.dv, a.dqkv, B, T, H, hd, this.rotary()));
      bw.push(...linearBackward(ctx, a.dqkv, A.ln1, this.param(`${p}.attn.qkv.weight`), this.param(`${p}.attn.qkv.weight`, true), this.param(`${p}.attn.qkv.bias`, true), a.dln, N, C, 3 * C));
      bw.push(...normBackward(ctx, s, this.norm(`${p}.ln1`), a.dln, A.x, A.ln1Mean, A.ln1Rstd, a.dx, N));
    }
    if (stage.hasEmbedding) {
      if (hp > 0) bw.push(dropoutBackward(ctx, a.dx, hp, a.dropSeed, 0));
      bw.push(embeddingBackward(ctx, a.dx, a.buckets, this.param('embed.wte', true), C, N));
      if (wpe) bw.push(positionEmbeddingBackward(ctx, a.dx, this.param('embed.wpe', true), B, T, C));
    }
  }
}
