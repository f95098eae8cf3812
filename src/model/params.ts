// Every parameter of the GPT: name, shape, weight-decay group, initialisation, and how it
// splits under tensor parallelism. Parameters (and their gradients, Adam m and v) live as
// views in one flat buffer: decayed tensors first so AdamW decays the prefix [0, decayCount).

import { initStd, type ModelSpec } from './spec';

export type TpSplit = 'column' | 'row' | 'vocab' | 'replicated';
export type ParamInit = { kind: 'normal'; std: number } | { kind: 'zeros' } | { kind: 'ones' };

export interface ParamDef {
  name: string;
  shape: number[];
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
}

/** 64 floats = 256 bytes: WebGPU's minStorageBufferOffsetAlignment on every adapter we know. */
export const ALIGN_ELEMS = 64;

export function paramDefs(s: ModelSpec): ParamDef[] {
  const w = (name: string, out: number, inp: number, kind: ModelSpec['initMethod'], tp: TpSplit): ParamDef => ({
    name, shape: [out, inp], decay: true, init: { kind: 'normal', std: initStd(kind, s, inp, out) }, tp,
  });
  const vec = (name: string, n: number, init: ParamInit, tp: TpSplit): ParamDef => ({ name, shape: [n], decay: false, init, tp });
  const norm = (prefix: string): ParamDef[] => [
    vec(`${prefix}.weight`, s.C, { kind: 'ones' }, 'replicated'),
    ...(s.norm === 'layernorm' ? [vec(`${prefix}.bias`, s.C, { kind: 'zeros' }, 'replicated')] : []),
  ];
  const defs: ParamDef[] = [];
  defs.push({ name: 'embed.wte', shape: [s.V, s.C], decay: true, init: { kind: 'normal', std: initStd(s.initMethod, s, s.C, s.V) }, tp: 'vocab' });
  if (s.posEmb === 'learned') {
    defs.push({ name: 'embed.wpe', shape: [s.maxPos, s.C], decay: true, init: { kind: 'normal', std: initStd(s.initMethod, s, s.C, s.maxPos) }, tp: 'replicated' });
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
}

export function fullModel(s: ModelSpec): StageRange {
  return { firstLayer: 0, endLayer: s.L, hasEmbedding: true, hasHead: true };
}

export function stageParamDefs(s: ModelSpec, st: StageRange): ParamDef[] {
  const layerOf = (name: string) => (name.startsWith('layers.') ? Number(name.split('.')[1]) : -1);
  return paramDefs(s).filter((d) => {
    const l = layerOf(d.name);
    if (l >= 0) return l >= st.firstLayer && l < st.endLayer;
    if (d.name === 'embed.wte') return st.hasEmbedding || (st.hasHead && s.tied);
    if (d.name.startsWith('embed.')) return st.hasEmbedding;
    return st.hasHead; // final_norm.*, head.weight
  });
}

export function layoutParams(defs: readonly ParamDef[]): ParamLayout {
  const ordered = [...defs.filter((d) => d.decay), ...defs.filter((d) => !d.decay)];
  const slots: ParamSlot[] = [];
  let offset = 0, decayCount = 0, count = 0;
  for (const d of ordered) {
    const length = d.shape.reduce((a, b) => a * b, 1);
    slots.push({ ...d, offset, length });
    count += length;
    offset += Math.ceil(length / ALIGN_ELEMS) * ALIGN_ELEMS;
    if (d.decay) decayCount = offset;
  }
  return { slots, byName: new Map(slots.map((s) => [s.name, s])), decayCount, total: offset, count };
}
