// Bytes of the activation buffers one rank of the trainer allocates (src/model/activation-set.ts),
// counted without a GPU: the same tensors, each rounded up to 16 bytes as the GPU context
// rounds its buffers. Per slot (micro-batch in flight): every layer's saved tensors (with
// activation recompute, only each chunk's input), the logits and the backward scratch; shared by
// the slots: the recompute layers, the attention backward's T × T scratch and, with sequence
// parallelism, three (B·T, C) buffers gathered or summed along the sequence. With 16-bit
// activations a slot keeps each layer's saved tensors packed (two values a word) and the slots
// share one f32 work layer (model/half-activations.ts).
// The attention is counted as the trainer picks it (activations.ts fusionFor) on a GPU whose limits
// fit the fused kernels (the H200's do): from FUSED_ATTENTION_FROM_BYTES of probabilities per layer
// none are kept: the recomputing backward while its scratch is at most 1 GiB
// (maxStorageBufferBindingSize ≥ 1 GiB), else the fused kernels.
// Legend: B micro batch, T sequence, C hidden, N = B·T, n = this rank's token rows (N, or N/tp
// with sequence parallelism), a = C/tp, f = F/tp, h = H/tp, v = V/tp, P = B·h·T² probabilities.

export interface ActivationCountInput {
  microBatch: number;
  seqLength: number;
  hidden: number;
  heads: number;
  ffnHidden: number;
  paddedVocab: number;
  tp: number;
  /** transformer layers of the stage */
  layers: number;
  /** activation sets: micro-batches whose buffers are live at once */
  slots: number;
  /** activation recompute in chunks of this many layers (0: off) */
  recomputeLayers: number;
  sequenceParallel: boolean;
  attentionDropout: boolean;
  /** GPT-J's parallel residual (gpt_j_residual): no x + attention output kept for the MLP's norm */
  parallelResidual?: boolean;
  /** 16-bit activations (model/half-activations.ts): what each layer's backward reads is kept
   *  packed, two values to 4 bytes; the layer's other tensors are one work layer the slots share */
  halfActivations?: boolean;
}

/** The attention without its (B·h, T, T) probabilities kept (the log-sum-exp path) pays off when a
 *  layer's probabilities would be large. Below this the plain kernels are as fast and need no
 *  recomputation (the fused forward is slower there on the H200, and far slower on SwiftShader). */
export const FUSED_ATTENTION_FROM_BYTES = 32 << 20;
/** Largest (B·h, T, T) scratch the recomputing backward takes (two of them: probabilities, gradient). */
export const RECOMPUTE_SCRATCH_BYTES = 2 ** 30;

const bufferBytes = (elements: number) => Math.max(16, Math.ceil((elements * 4) / 16) * 16);
const total = (tensors: number[]) => tensors.reduce((sum, e) => sum + bufferBytes(e), 0);
/** elements (u32 words) of n values packed two to a word */
const packed = (n: number) => Math.ceil(n / 2);

export function activationBytes(m: ActivationCountInput): number {
  const { microBatch: B, seqLength: T, hidden: C, tp } = m;
  const N = B * T,
    a = C / tp,
    f = m.ffnHidden / tp,
    h = m.heads / tp,
    v = m.paddedVocab / tp,
    hd = C / m.heads;
  const seq = m.sequenceParallel && tp > 1;
  const n = seq ? N / tp : N;
  const P = B * h * T * T;
  const large = P * 4 >= FUSED_ATTENTION_FROM_BYTES;
  const attentionBackward = m.attentionDropout
    ? null
    : chooseAttentionBackward(undefined, large, P * 4 <= RECOMPUTE_SCRATCH_BYTES, hd % 4 === 0);
  const probabilities = attentionBackward === null;
  // each row's log-sum-exp instead of the probabilities (with attention dropout: evaluation's fused forward)
  const fusedAttention = m.attentionDropout ? large && hd % 4 === 0 : !probabilities;
  const geluBackwardFused = N % 4 === 0 && f % 4 === 0 && C % 4 === 0;
  const opt = (on: boolean, e: number) => (on ? [e] : []);

  const layer = (withInput: boolean): number[] => [
    ...opt(withInput, n * C), // x
    ...[n * C, n, n], // ln1, mean, rstd
    ...[3 * N * a, N * a, N * a, N * a], // qkv, q, k, v
    ...opt(probabilities, P),
    ...opt(fusedAttention, B * h * T), // lse
    ...opt(m.attentionDropout, P),
    ...[N * a, N * a], // yh, y
    ...[n * C, n * C, n * C, n, n], // attnOut, xMid, ln2, mean, rstd
    ...[N * f, N * f, n * C], // h, g, mlpOut
  ];
  const L = m.layers;
  const k = m.recomputeLayers > 0 && L > 0 ? Math.min(m.recomputeLayers, L) : 0;
  const half = !!m.halfActivations && k === 0 && L > 0;
  // 16-bit activations with recompute: chunk 0's input f32, the others packed; two shared f32 inputs
  const halfInputs = !!m.halfActivations && k > 0;
  const chunks = k > 0 ? Math.ceil(L / k) : 0;
  // 16-bit activations, per slot and layer: the statistics in f32, the tensors the backward reads
  // packed (layer 0's input stays f32: the slot's own)
  const halfLayer = (j: number): number[] => [
    ...(j === 0 ? [n * C] : [packed(n * C)]), // x
    ...[n, n, n, n, ...opt(fusedAttention, B * h * T)], // ln1 mean, rstd, ln2 mean, rstd, lse
    ...[n * C, N * a, N * a, N * a].map(packed), // ln1, q, k, v
    ...opt(probabilities, packed(P)),
    ...opt(m.attentionDropout, packed(P)),
    ...opt(fusedAttention, packed(N * a)), // yh
    packed(N * a), // y
    ...opt(!m.parallelResidual, packed(n * C)), // xMid
    ...[n * C, N * f, N * f].map(packed), // ln2, h, g
  ];
  // the work layer: a layer without its input and statistics, and the residual stream between layers
  const work = [
    n * C, // ln1
    ...[3 * N * a, N * a, N * a, N * a], // qkv, q, k, v
    ...opt(probabilities, P),
    ...opt(m.attentionDropout, P),
    ...[N * a, N * a], // yh, y
    ...[n * C, n * C, n * C], // attnOut, xMid, ln2
    ...[N * f, N * f, n * C], // h, g, mlpOut
    ...opt(L >= 2, n * C),
    ...opt(L >= 3, n * C),
  ];
  const slotLayers = half
    ? Array.from({ length: L }, (_, j) => halfLayer(j)).flat()
    : k > 0
      ? Array.from({ length: chunks }, (_, c) => (halfInputs && c > 0 ? packed(n * C) : n * C))
      : Array(L).fill(layer(true)).flat();
  const slot = [
    ...[N, N, 1 + 4 * N], // tokens, targets, embedding buckets
    ...slotLayers,
    ...[n * C, n * C, n, n], // xFinal, lnf, mean, rstd
    ...[N * v, N, N, N], // logits, losses, lse, target logit
    ...[n * C, n * C, n * C, N * C, ...opt(seq, n * C)], // dx, dxSaved, dBranch, dln, dlnRows
    ...[3 * N * a, N * a, N * a, N * a], // dqkv, dq, dk, dv
    ...opt(probabilities, P), // datt
    ...opt(attentionBackward === 'fused', B * h * T), // dsum
    ...[N * a, N * a, N * f, ...opt(!geluBackwardFused, N * f)], // dyh, dy, dh, dg
    ...[N * v, 4], // dlogits, dropout seed
  ];
  const shared = [
    ...(half ? work : []),
    ...(halfInputs ? [...opt(chunks >= 2, n * C), ...opt(chunks >= 3, n * C)] : []),
    ...Array.from({ length: k }, (_, j) => layer(j > 0)).flat(),
    ...(L > 0 && attentionBackward === 'recompute' ? [P, P] : []),
    ...(seq ? [N * C, N * C, N * C] : []),
  ];
  return m.slots * total(slot) + total(shared);
}

/** Without attention dropout: 'recompute' keeps each row's log-sum-exp (the forward's products run
 *  through one (B*h, T, T) scratch shared by every layer and slot) and the backward puts the layer's
 *  probabilities back into that scratch for the unfused backward; 'fused': the fused kernels, no
 *  T × T buffer at all; 'stored': every layer keeps its probabilities (more memory, no recomputation). */
export type AttentionBackward = 'fused' | 'recompute' | 'stored';

/** Pure: the attention backward without attention dropout (null: the probabilities are kept), as
 *  activations.ts fusionFor picks it: `prefer` where it can run, else by default from
 *  FUSED_ATTENTION_FROM_BYTES of probabilities per layer (`large`), recomputing while the scratch
 *  fits, else the fused kernels where they run. */
export function chooseAttentionBackward(
  prefer: AttentionBackward | undefined,
  large: boolean,
  fits: boolean,
  fusedKernel: boolean,
): AttentionBackward | null {
  if (prefer === 'stored') return null;
  if (prefer === 'recompute') return fits ? 'recompute' : null;
  if (prefer === 'fused') return fusedKernel ? 'fused' : null;
  if (!large) return null;
  if (fits) return 'recompute';
  return fusedKernel ? 'fused' : null;
}
