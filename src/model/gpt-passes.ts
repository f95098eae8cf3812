// The GPT's forward and backward passes recorded as Programs, piece by piece: embedding,
// one transformer layer, the head. Megatron's tensor parallelism: QKV and MLP-up are
// column-parallel (input copied to the TP region: identity forward, sum of the input
// gradient backward), attention-dense and MLP-down are row-parallel (partial outputs summed
// over the TP group, then the replicated bias), the embedding and the head are vocab-parallel.
// With sequence parallelism those sums become reduce-scatters along the sequence and the inputs
// all-gathers (tp-regions.ts): norms, dropout and residuals then run on this rank's rows only.
// Legend: B batch, T sequence, C hidden, hd head dim, N = B*T; h, a = h·hd, f, v: this TP
// rank's heads, attention width, MLP width, vocabulary rows (see activations.ts); n: this rank's
// token rows (N, or B·T/tp with sequence parallelism).
import type { GpuContext } from '../gpu/context';
import type { GpuTensor } from '../gpu/tensor';
import type { Dispatch } from '../gpu/dispatch';
import { add, addInto, copy } from '../gpu/kernels/elementwise';
import {
  embeddingBackward,
  embeddingForward,
  positionEmbeddingBackward,
  type VocabRows,
} from '../gpu/kernels/embedding';
import { matmul, vec4Aligned } from '../gpu/kernels/matmul';
import { attentionProducts } from '../gpu/kernels/attention-products';
import type { Arithmetic, LinearWeight } from '../gpu/kernels/matmul-f16';
import {
  causalSoftmaxBackward,
  causalSoftmaxForward,
  mergeHeads,
  qkvSplitBackward,
  qkvSplitForward,
  splitHeads,
  type RotarySpec,
} from '../gpu/kernels/attention';
import { fusedAttentionBackward, fusedAttentionForward } from '../gpu/kernels/fused-attention';
import { crossEntropyBackward, crossEntropyForward, targetLogit } from '../gpu/kernels/crossentropy';
import { type DropoutLayout, dropoutBackward, dropoutForward } from '../gpu/kernels/dropout';
import { scaleByTensor } from '../gpu/kernels/loss-scale';
import type { Acts, LayerActs, LocalDims } from './activations';
import { linearBackward, linearForward, linearProduct } from './linear';
import { normBackward, normForward, type NormParams } from './norm';
import type { ProgramBuilder } from './program';
import type { SeqPlace } from './sequence-parallel';
import type { ModelSpec } from './spec';
import {
  columnInput,
  columnInputGrad,
  hiddenLayout,
  rowOutputGrad,
  rowParallelForward,
  rowsOf,
  wholeReplicatedGrad,
} from './tp-regions';
import type { TpPlace } from './tp-shard';

/** What recording a pass needs to know about the rank's model. */
export interface PassContext {
  ctx: GpuContext;
  spec: ModelSpec;
  B: number;
  N: number;
  tp: TpPlace;
  dims: LocalDims;
  vocab: VocabRows;
  lossScale: number;
  /** mixed precision: (2) [loss scale, 1 / loss scale]; dL/dlogits is multiplied by element 0 */
  lossScaleFactors?: GpuTensor;
  /** the linear layers' products in f16 or f32 (gpu/kernels/matmul-f16.ts) */
  arithmetic: Arithmetic;
  /** training passes apply dropout; evaluation passes do not */
  dropout: boolean;
  /** Megatron's sequence parallelism: this rank's positions of the norm/dropout/residual tensors */
  seq?: SeqPlace | null;
  param(name: string, grad?: boolean): GpuTensor;
  /** a layer's linear weight as its products read it (packed fp16 under f16 arithmetic: Gpt.linearWeight) */
  weight(name: string): LinearWeight;
  norm(prefix: string): NormParams;
  rotary(): RotarySpec | null;
  /** the weight the head multiplies by: embed.wte when tied, else head.weight */
  headWeight(grad?: boolean): GpuTensor;
}

const stream = (l: number, site: number) => l * 8 + site + 8;

/** Attention probabilities (B*h, T, T): this TP rank's h heads of each sample, from global head tp·h. */
const attentionLayout = (m: PassContext): DropoutLayout => ({
  groupSize: m.spec.T * m.spec.T,
  groups: m.dims.h,
  groupBase: m.tp.rank * m.dims.h,
});

/** The hidden dropout probability this pass applies (none when evaluating). */
const hiddenP = (m: PassContext) => (m.dropout ? m.spec.hiddenDropout : 0);

// ---- embedding: tokens → x0 (N, C) ----

export function embeddingForwardPass(m: PassContext, b: ProgramBuilder, a: Acts, x0: GpuTensor): void {
  const { ctx, spec: s } = m;
  // learned positions are added once: by TP rank 0, before the ranks' partial lookups are summed
  const wpe = s.posEmb === 'learned' && m.tp.rank === 0 ? m.param('embed.wpe') : null;
  const partial = m.seq && a.seq ? a.seq.sum : x0; // (N, C)
  b.push(embeddingForward(ctx, a.tokens, m.param('embed.wte'), wpe, partial, s.T, s.C, m.vocab));
  if (m.seq) b.seqReduceScatter(partial, x0, m.B, s.T, 'embedding output');
  else if (m.tp.size > 1) b.tpSum(x0, 'embedding output');
  if (hiddenP(m) > 0) b.push(dropoutForward(ctx, x0, hiddenP(m), a.dropSeed, 0, hiddenLayout(m)));
}

export function embeddingBackwardPass(m: PassContext, b: ProgramBuilder, a: Acts): void {
  const { ctx, spec: s } = m;
  if (hiddenP(m) > 0) b.push(dropoutBackward(ctx, a.dx, hiddenP(m), a.dropSeed, 0, hiddenLayout(m)));
  let dx = a.dx; // (N, C)
  if (m.seq && a.seq) {
    dx = a.seq.grad;
    b.seqGather([{ local: a.dx, full: dx }], m.B, s.T, 'embedding output gradient');
  }
  b.push(embeddingBackward(ctx, dx, a.buckets, m.param('embed.wte', true), s.C, m.N));
  const dwpe = s.posEmb === 'learned' ? wholeReplicatedGrad(m, 'embed.wpe') : null;
  if (dwpe) b.push(positionEmbeddingBackward(ctx, dx, dwpe, m.B, s.T, s.C));
}

// ---- transformer layer l: A.x → xNext (N, C) ----

export function layerForwardPass(
  m: PassContext,
  b: ProgramBuilder,
  a: Acts,
  A: LayerActs,
  l: number,
  xNext: GpuTensor,
): void {
  const { ctx, spec: s, N, B, dims: d } = m;
  const { C, T, hd } = s;
  const BH = B * d.h,
    scale = 1 / Math.sqrt(hd),
    hp = hiddenP(m),
    p = `layers.${l}`;
  const attDrop = m.dropout ? A.attDrop : null;
  const n = rowsOf(m);
  b.push(...normForward(ctx, s, m.norm(`${p}.ln1`), A.x, A.ln1, A.ln1Mean, A.ln1Rstd, n));
  const qkvIn = columnInput(m, b, a, A.ln1, `${p}.ln1 output`);
  b.push(
    ...linearForward(
      ctx,
      qkvIn,
      m.weight(`${p}.attn.qkv.weight`),
      m.param(`${p}.attn.qkv.bias`),
      A.qkv,
      N,
      C,
      3 * d.a,
      undefined,
      m.arithmetic,
    ),
  );
  b.push(qkvSplitForward(ctx, A.qkv, A.q, A.k, A.v, B, T, d.h, hd, m.rotary()));
  // without attention dropout (which needs the probabilities kept): the unfused products through the
  // recomputing backward's scratch, keeping each row's log-sum-exp (faster than the fused kernel on the
  // GPUs measured, bench/README.md), or else the fused kernel
  const mm = attentionProducts(BH, T, hd);
  if (A.lse && !attDrop && a.attRecomputed) {
    b.push(...matmul(ctx, A.q, A.k, a.attRecomputed, mm.scores));
    b.push(causalSoftmaxForward(ctx, a.attRecomputed, BH, T, scale, A.lse));
    b.push(...matmul(ctx, a.attRecomputed, A.v, A.yh, mm.values));
  } else if (A.lse && !attDrop) b.push(fusedAttentionForward(ctx, A.q, A.k, A.v, A.yh, A.lse, { BH, T, hd, scale }));
  else if (A.att) {
    b.push(...matmul(ctx, A.q, A.k, A.att, mm.scores));
    b.push(causalSoftmaxForward(ctx, A.att, BH, T, scale));
    if (attDrop)
      b.push(
        copy(ctx, A.att, attDrop),
        dropoutForward(ctx, attDrop, s.attentionDropout, a.dropSeed, stream(l, 0), attentionLayout(m)),
      );
    b.push(...matmul(ctx, attDrop ?? A.att, A.v, A.yh, mm.values));
  } else throw new Error(`layer ${l}: neither attention probabilities nor log-sum-exp were allocated`);
  b.push(mergeHeads(ctx, A.yh, A.y, B, T, d.h, hd));
  rowParallelForward(
    m,
    b,
    a,
    A.y,
    m.weight(`${p}.attn.dense.weight`),
    m.param(`${p}.attn.dense.bias`),
    A.attnOut,
    d.a,
    C,
    `${p}.attn.dense output`,
  );
  if (hp > 0) b.push(dropoutForward(ctx, A.attnOut, hp, a.dropSeed, stream(l, 1), hiddenLayout(m)));
  const mlpIn = s.parallelResidual ? A.x : A.xMid;
  if (!s.parallelResidual) b.push(add(ctx, A.x, A.attnOut, A.xMid));
  b.push(...normForward(ctx, s, m.norm(`${p}.ln2`), mlpIn, A.ln2, A.ln2Mean, A.ln2Rstd, n));
  const [upW, upB] = [m.weight(`${p}.mlp.up.weight`), m.param(`${p}.mlp.up.bias`)];
  const upIn = columnInput(m, b, a, A.ln2, `${p}.ln2 output`);
  b.push(...linearForward(ctx, upIn, upW, upB, A.h, N, C, d.f, A.g, m.arithmetic)); // h = ln2·Wᵀ + b, g = gelu(h)
  rowParallelForward(
    m,
    b,
    a,
    A.g,
    m.weight(`${p}.mlp.down.weight`),
    m.param(`${p}.mlp.down.bias`),
    A.mlpOut,
    d.f,
    C,
    `${p}.mlp.down output`,
  );
  if (hp > 0) b.push(dropoutForward(ctx, A.mlpOut, hp, a.dropSeed, stream(l, 2), hiddenLayout(m)));
  if (s.parallelResidual) b.push(add(ctx, A.x, A.attnOut, xNext), addInto(ctx, xNext, A.mlpOut));
  else b.push(add(ctx, A.xMid, A.mlpOut, xNext));
}

/** a.dx holds dL/d(xNext) on entry and dL/d(A.x) on exit. */
export function layerBackwardPass(m: PassContext, b: ProgramBuilder, a: Acts, A: LayerActs, l: number): void {
  const { ctx, spec: s, N, B, dims: d } = m;
  const { C, T, hd } = s;
  const BH = B * d.h,
    scale = 1 / Math.sqrt(hd),
    hp = hiddenP(m),
    p = `layers.${l}`;
  const n = rowsOf(m);
  const mlpIn = s.parallelResidual ? A.x : A.xMid;
  // The parallel residual feeds the same gradient to both branches.
  const dOut = s.parallelResidual ? a.dxSaved : a.dx;
  if (s.parallelResidual) b.push(copy(ctx, a.dx, a.dxSaved));
  // MLP branch
  let dMlp = dOut;
  if (hp > 0) {
    b.push(copy(ctx, dOut, a.dBranch), dropoutBackward(ctx, a.dBranch, hp, a.dropSeed, stream(l, 2), hiddenLayout(m)));
    dMlp = a.dBranch;
  }
  const mlp = rowOutputGrad(m, b, a, dMlp, A.ln2, `${p}.mlp.down output gradient`);
  b.push(
    ...linearBackward(
      ctx,
      mlp.dy,
      A.g,
      m.weight(`${p}.mlp.down.weight`),
      m.param(`${p}.mlp.down.weight`, true),
      wholeReplicatedGrad(m, `${p}.mlp.down.bias`),
      a.dh,
      N,
      d.f,
      C,
      { preGelu: A.h, scratch: a.dg }, // dh = (dMlp·W) · gelu'(h)
      m.arithmetic,
    ),
  );
  b.push(
    ...linearBackward(
      ctx,
      a.dh,
      mlp.input,
      m.weight(`${p}.mlp.up.weight`),
      m.param(`${p}.mlp.up.weight`, true),
      m.param(`${p}.mlp.up.bias`, true),
      a.dln,
      N,
      C,
      d.f,
      undefined,
      m.arithmetic,
    ),
  );
  const dln2 = columnInputGrad(m, b, a, `${p}.mlp.up input gradient`);
  b.push(...normBackward(ctx, s, m.norm(`${p}.ln2`), dln2, mlpIn, A.ln2Mean, A.ln2Rstd, a.dx, n));
  // now dx = dL/d(mlpIn) (sequential: x_mid; parallel: partial dL/dx)
  // attention branch
  let dAttn = s.parallelResidual ? dOut : a.dx;
  if (hp > 0) {
    b.push(copy(ctx, dAttn, a.dBranch), dropoutBackward(ctx, a.dBranch, hp, a.dropSeed, stream(l, 1), hiddenLayout(m)));
    dAttn = a.dBranch;
  }
  const attn = rowOutputGrad(m, b, a, dAttn, A.ln1, `${p}.attn.dense output gradient`);
  b.push(
    ...linearBackward(
      ctx,
      attn.dy,
      A.y,
      m.weight(`${p}.attn.dense.weight`),
      m.param(`${p}.attn.dense.weight`, true),
      wholeReplicatedGrad(m, `${p}.attn.dense.bias`),
      a.dy,
      N,
      d.a,
      C,
      undefined,
      m.arithmetic,
    ),
  );
  b.push(splitHeads(ctx, a.dy, a.dyh, B, T, d.h, hd));
  const fusedForward = A.lse && !(m.dropout && A.attDrop);
  if (fusedForward && a.attRecomputed && a.datt) {
    // this layer's probabilities again (into scratch shared by all layers), then the unfused backward
    b.push(...recomputeProbabilities(m, A, a.attRecomputed));
    unfusedAttentionBackward(m, b, a, A, a.attRecomputed, a.datt, l);
  } else if (fusedForward && a.dsum) {
    const saved = { q: A.q, k: A.k, v: A.v, o: A.yh, lse: A.lse!, dout: a.dyh };
    b.push(...fusedAttentionBackward(ctx, saved, { dq: a.dq, dk: a.dk, dv: a.dv, dsum: a.dsum }, { BH, T, hd, scale }));
  } else if (A.att && a.datt) unfusedAttentionBackward(m, b, a, A, A.att, a.datt, l);
  else throw new Error(`layer ${l}: the backward has neither the fused nor the unfused attention buffers`);
  b.push(qkvSplitBackward(ctx, a.dq, a.dk, a.dv, a.dqkv, B, T, d.h, hd, m.rotary()));
  b.push(
    ...linearBackward(
      ctx,
      a.dqkv,
      attn.input,
      m.weight(`${p}.attn.qkv.weight`),
      m.param(`${p}.attn.qkv.weight`, true),
      m.param(`${p}.attn.qkv.bias`, true),
      a.dln,
      N,
      C,
      3 * d.a,
      undefined,
      m.arithmetic,
    ),
  );
  const dln1 = columnInputGrad(m, b, a, `${p}.attn.qkv input gradient`);
  b.push(...normBackward(ctx, s, m.norm(`${p}.ln1`), dln1, A.x, A.ln1Mean, A.ln1Rstd, a.dx, n));
}

/** The layer's probabilities (B*h, T, T) into `att` from Q, K and the forward's log-sum-exp: one
 *  product with the epilogue 'probsFromLse', or (operands not 16-byte aligned) the product and the
 *  softmax again. */
function recomputeProbabilities(m: PassContext, A: LayerActs, att: GpuTensor): Dispatch[] {
  const { ctx, B, dims: d } = m;
  const { T, hd } = m.spec;
  const BH = B * d.h,
    scale = 1 / Math.sqrt(hd);
  const scores = attentionProducts(BH, T, hd).scores;
  const fromLse = { ...scores, alpha: scale };
  if (A.lse && vec4Aligned(fromLse, A.q, A.k, att, A.lse))
    return matmul(ctx, A.q, A.k, att, fromLse, { kind: 'probsFromLse', lse: A.lse });
  return [...matmul(ctx, A.q, A.k, att, scores), causalSoftmaxForward(ctx, att, BH, T, scale)];
}

/** dq, dk, dv from dyh through the softmax probabilities `att` (B*h, T, T), and attention dropout
 *  where the layer applied it; datt: (B*h, T, T) scratch. */
function unfusedAttentionBackward(
  m: PassContext,
  b: ProgramBuilder,
  a: Acts,
  A: LayerActs,
  att: GpuTensor,
  datt: GpuTensor,
  l: number,
): void {
  const { ctx, spec: s, B, dims: d } = m;
  const { T, hd } = s;
  const BH = B * d.h,
    scale = 1 / Math.sqrt(hd);
  const attDrop = m.dropout ? A.attDrop : null;
  const mm = attentionProducts(BH, T, hd); // causal: the moot halves are skipped
  b.push(...matmul(ctx, a.dyh, A.v, datt, mm.probsGrad));
  b.push(...matmul(ctx, attDrop ?? att, a.dyh, a.dv, mm.valuesGrad));
  if (attDrop) b.push(dropoutBackward(ctx, datt, s.attentionDropout, a.dropSeed, stream(l, 0), attentionLayout(m)));
  b.push(causalSoftmaxBackward(ctx, att, datt, BH, T, scale));
  b.push(...matmul(ctx, datt, A.k, a.dq, mm.queriesGrad));
  b.push(...matmul(ctx, datt, A.q, a.dk, mm.keysGrad));
}

// ---- head: xFinal → final norm → logits (N, v) → per-token losses (N) ----

export function headForwardPass(m: PassContext, b: ProgramBuilder, a: Acts): void {
  const { ctx, spec: s, N, dims: d } = m;
  b.push(...normForward(ctx, s, m.norm('final_norm'), a.xFinal, a.lnf, a.lnfMean, a.lnfRstd, rowsOf(m)));
  const lnf = columnInput(m, b, a, a.lnf, 'final_norm output');
  b.push(...linearProduct(ctx, m.arithmetic, lnf, m.headWeight(), a.logits, { M: N, N: d.v, K: s.C, transB: true }));
  b.push(crossEntropyForward(ctx, a.logits, a.targets, a.losses, a.lse, N, d.v));
  if (m.tp.size > 1) {
    b.push(targetLogit(ctx, a.logits, a.targets, a.targetLogit, N, d.v));
    b.vocabLoss({
      lse: a.lse,
      targetLogit: a.targetLogit,
      targets: a.targets,
      losses: a.losses,
      targetsOnHost: a.targetsOnHost,
    });
  }
}

/** Starts from a zeroed a.dx; leaves dL/d(xFinal) in a.dx. */
export function headBackwardPass(m: PassContext, b: ProgramBuilder, a: Acts): void {
  const { ctx, spec: s, N, dims: d } = m;
  b.push(crossEntropyBackward(ctx, a.logits, a.targets, a.lse, a.dlogits, N, d.v, m.lossScale));
  if (m.lossScaleFactors) b.push(scaleByTensor(ctx, a.dlogits, m.lossScaleFactors, 0));
  const lnf = columnInput(m, b, a, a.lnf, 'final_norm output (again)'); // only its rows were kept
  const [W, dW] = [m.headWeight(), m.headWeight(true)];
  b.push(...linearBackward(ctx, a.dlogits, lnf, W, dW, null, a.dln, N, s.C, d.v, undefined, m.arithmetic));
  const dlnf = columnInputGrad(m, b, a, 'head input gradient');
  b.push(...normBackward(ctx, s, m.norm('final_norm'), dlnf, a.xFinal, a.lnfMean, a.lnfRstd, a.dx, rowsOf(m)));
}
