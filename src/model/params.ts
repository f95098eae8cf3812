// Every parameter of the GPT: name, shape, weight-decay group, initialisation, and how it
// splits under tensor parallelism. Parameters (and their gradients, Adam m and v) live as
// views in one flat buffer, in four groups:
//   [decayed TP-split | decayed replicated | undecayed replicated | undecayed TP-split]
// so AdamW decays the prefix [0, decayCount), the TP-replicated tensors (norms, row-layer
// biases, learned positions) form one range that the gradient norm counts on one TP rank
// only, and embed.wte (first) is one range a pipeline's tied copy can skip.

import { localShape } from './tp-shard';
import { type ModelSpec, type WeightInit, weightInit } from './spec';

export type TpSplit = 'column' | 'row' | 'vocab' | 'replicated';
export type ParamInit = WeightInit | { kind: 'zeros' } | { kind: 'ones' };

export interface ParamDef {
  name: string;
  /** the shape this rank holds (fullShape split by `tp`) */
  shape: number[];
  /** the shape in the unsplit model */
  fullShape: number[];
  decay: boolean;
  init: ParamInit;
  tp: TpSplit;
}

export interface ParamSlot extends ParamDef {
  /** element offset in the flat buffer (multiple of ALIGN_ELEMS) */
  offset: number;
  length: number;
}

export interface ParamLayout {
  slots: ParamSlot[];
  byName: Map<string, ParamSlot>;
  /** elements [0, decayCount) get weight decay */
  decayCount: number;
  /** total elements, padded */
  total: number;
  /** real parameters (without padding) */
  count: number;
  /** elements [start, end) are the tensors every TP rank holds whole */
  replicated: { start: number; end: number };
}

/** 64 floats = 256 bytes: WebGPU's minStorageBufferOffsetAlignment on every adapter we know. */
export const ALIGN_ELEMS = 64;

export function paramDefs(s: ModelSpec): ParamDef[] {
  const w = (name: string, out: number, inp: number, kind: ModelSpec['initMethod'], tp: TpSplit): ParamDef => ({
    name,
    shape: [out, inp],
    fullShape: [out, inp],
    decay: true,
    init: weightInit(kind, s, inp, out),
    tp,
  });
  const vec = (name: string, n: number, init: ParamInit, tp: TpSplit): ParamDef => ({
    name,
    shape: [n],
    fullShape: [n],
    decay: false,
    init,
    tp,
  });
  const norm = (prefix: string): ParamDef[] => [
    vec(`${prefix}.weight`, s.C, { kind: 'ones' }, 'replicated'),
    ...(s.norm === 'layernorm' ? [vec(`${prefix}.bias`, s.C, { kind: 'zeros' }, 'replicated')] : []),
  ];
  const defs: ParamDef[] = [];
  defs.push({
    name: 'embed.wte',
    shape: [s.V, s.C],
    fullShape: [s.V, s.C],
    decay: true,
    init: weightInit(s.initMethod, s, s.C, s.V),
    tp: 'vocab',
  });
  if (s.posEmb === 'learned') {
    defs.push({
      name: 'embed.wpe',
      shape: [s.maxPos, s.C],
      fullShape: [s.maxPos, s.C],
      decay: true,
      init: weightInit(s.initMethod, s, s.C, s.maxPos),
      tp: 'replicated',
    });
  }
  for (let l = 0; l < s.L; l++) {
    const p = `layers.${l}`;
    defs.push(
      ...norm(`${p}.ln1`),
      w(`${p}.attn.qkv.weight`, 3 * s.C, s.C, s.initMethod, 'column'),
      vec(`${p}.attn.qkv.bias`, 3 * s.C, { kind: 'zeros' }, 'column'),
      w(`${p}.attn.dense.weight`, s.C, s.C, s.outputInitMethod, 'row'),
      vec(`${p}.attn.dense.bias`, s.C, { kind: 'zeros' }, 'replicated'),
      ...norm(`${p}.ln2`),
      w(`${p}.mlp.up.weight`, s.F, s.C, s.initMethod, 'column'),
      vec(`${p}.mlp.up.bias`, s.F, { kind: 'zeros' }, 'column'),
      w(`${p}.mlp.down.weight`, s.C, s.F, s.outputInitMethod, 'row'),
      vec(`${p}.mlp.down.bias`, s.C, { kind: 'zeros' }, 'replicated'),
    );
  }
  defs.push(...norm('final_norm'));
  if (!s.tied) defs.push(w('head.weight', s.V, s.C, s.initMethod, 'vocab'));
  return defs;
}

/** Which part of the model a pipeline stage holds: layers [firstLayer, endLayer), plus the
 *  embedding on the first stage and the final norm + LM head on the last. With tied
 *  embeddings and several stages, the last stage keeps its own copy of `embed.wte` for the
 *  head (Megatron's scheme); the two copies' gradients are summed every step. */
export interface StageRange {
  firstLayer: number;
  endLayer: number;
  hasEmbedding: boolean;
  hasHead: boolean;
  /** interleaved 1F1B: the stage's model chunks, each a run of layers [first, end), in chunk
   *  order; the stage holds their union ([firstLayer, endLayer) spans them), the embedding in
   *  its first chunk and the head in its last. Absent: one chunk, [firstLayer, endLayer). */
  chunks?: [number, number][];
}

/** The stage's model chunks, each as a StageRange of its own (one without interleaving). */
export function stageChunks(st: StageRange): StageRange[] {
  const runs = st.chunks ?? [[st.firstLayer, st.endLayer]];
  return runs.map(([firstLayer, endLayer], k) => ({
    firstLayer,
    endLayer,
    hasEmbedding: st.hasEmbedding && k === 0,
    hasHead: st.hasHead && k === runs.length - 1,
  }));
}

/** Whether the stage holds transformer layer `l`. */
export function holdsLayer(st: StageRange, l: number): boolean {
  return (st.chunks ?? [[st.firstLayer, st.endLayer]]).some(([a, b]) => l >= a && l < b);
}

export function fullModel(s: ModelSpec): StageRange {
  return { firstLayer: 0, endLayer: s.L, hasEmbedding: true, hasHead: true };
}

/** The parameters one rank holds: its pipeline stage's, each split `tp` ways. */
export function stageParamDefs(s: ModelSpec, st: StageRange, tp = 1): ParamDef[] {
  const layerOf = (name: string) => (name.startsWith('layers.') ? Number(name.split('.')[1]) : -1);
  return shardDefs(paramDefs(s), tp).filter((d) => {
    const l = layerOf(d.name);
    if (l >= 0) return holdsLayer(st, l);
    if (d.name === 'embed.wte') return st.hasEmbedding || (st.hasHead && s.tied);
    if (d.name.startsWith('embed.')) return st.hasEmbedding;
    return st.hasHead; // final_norm.*, head.weight
  });
}

/** Each definition with the shape one of `tp` ranks holds. */
export function shardDefs(defs: readonly ParamDef[], tp: number): ParamDef[] {
  return defs.map((d) => ({ ...d, shape: localShape(d.tp, d.fullShape, tp, d.name) }));
}

const groupOf = (d: ParamDef): number => (d.decay ? (d.tp === 'replicated' ? 1 : 0) : d.tp === 'replicated' ? 2 : 3);

export function layoutParams(defs: readonly ParamDef[]): ParamLayout {
  const ordered = [0, 1, 2, 3].flatMap((g) => defs.filter((d) => groupOf(d) === g));
  const slots: ParamSlot[] = [];
  let offset = 0,
    decayCount = 0,
    count = 0;
  const replicated = { start: -1, end: -1 };
  for (const d of ordered) {
    const g = groupOf(d);
    if ((g === 1 || g === 2) && replicated.start < 0) replicated.start = offset;
    if (g === 3 && replicated.end < 0) replicated.end = offset;
    const length = d.shape.reduce((a, b) => a * b, 1);
    slots.push({ ...d, offset, length });
    count += length;
    offset += Math.ceil(length / ALIGN_ELEMS) * ALIGN_ELEMS;
    if (d.decay) decayCount = offset;
  }
  if (replicated.start < 0) replicated.start = decayCount;
  if (replicated.end < 0) replicated.end = offset;
  return { slots, byName: new Map(slots.map((s) => [s.name, s])), decayCount, total: offset, count, replicated };
}
