// Any layout's checkpoint into any other layout's rank: full tensors (assemble.ts) → the
// target rank's flat params and its ZeRO range of the moments. Pure apart from the fetches.
//
// Vocabulary-split tensors (embed.wte, head.weight: (V, C)) may have a different padded V in
// the target (NeoX pads V to a multiple of make_vocab_size_divisible_by × tp): rows both have
// are copied; rows only the target has keep the target's fresh init (`init`, else 0) and get
// zero moments; rows only the checkpoint has (padding) are dropped. Any other difference in a
// tensor's shape, or a tensor only one side has, is an error naming the tensor and shapes.

import { layoutParams, paramDefs, stageParamDefs, type ParamLayout, type StageRange } from '../model/params';
import type { ModelSpec } from '../model/spec';
import { shardTensor, vocabRange, type TpPlace } from '../model/tp-shard';
import { CheckpointReader, type FullTensor, type ReadFile } from './assemble';
import { CheckpointError, type OptRange, type TrainingMeta } from './layout';
import type { Manifest } from './manifest';

export interface ReshardTarget {
  spec: ModelSpec;
  stage: StageRange;
  tp: TpPlace;
  /** the target's moment range of its flat layout (default [0, layout.total): no ZeRO) */
  optRange?: OptRange;
  /** (layout.total) the target's freshly initialised params, for vocabulary rows the checkpoint lacks */
  init?: Float32Array;
  /** also restore Adam moments (default true); false fetches only parameter files */
  moments?: boolean;
}

export interface ReshardedState {
  step: number;
  /** mixed precision: skipped steps and the loss scaler, when the checkpoint has them */
  training?: TrainingMeta;
  layout: ParamLayout;
  /** (layout.total) */
  params: Float32Array;
  /** (optRange.end - optRange.start); zero when moments were not restored */
  m: Float32Array;
  v: Float32Array;
  optRange: OptRange;
}

const shapeText = (s: readonly number[]) => `[${s.join(', ')}]`;

/** Throws unless every parameter of `target` can be filled from `source` (vocabulary rows aside). */
export function checkCompatible(source: ModelSpec, target: ModelSpec): void {
  const src = new Map(paramDefs(source).map((d) => [d.name, d]));
  const dst = new Map(paramDefs(target).map((d) => [d.name, d]));
  const issues: string[] = [];
  for (const [name, d] of dst) {
    const s = src.get(name);
    if (!s) {
      issues.push(`tensor ${name}: target shape ${shapeText(d.fullShape)}, the checkpoint has no such tensor`);
      continue;
    }
    const rest = (x: number[]) => (d.tp === 'vocab' ? x.slice(1) : x).join(',');
    if (s.fullShape.length !== d.fullShape.length || rest(s.fullShape) !== rest(d.fullShape)) {
      issues.push(`tensor ${name}: checkpoint shape ${shapeText(s.fullShape)}, target shape ${shapeText(d.fullShape)}`);
    }
  }
  for (const [name, s] of src)
    if (!dst.has(name))
      issues.push(`tensor ${name}: checkpoint shape ${shapeText(s.fullShape)}, the target has no such tensor`);
  if (issues.length === 0 && source.H !== target.H)
    issues.push(`attention heads: checkpoint H=${source.H}, target H=${target.H} (the qkv rows are grouped per head)`);
  if (issues.length) {
    const more = issues.length > 4 ? ` (and ${issues.length - 4} more)` : '';
    throw new CheckpointError(
      'incompatible',
      `the checkpoint does not fit the target model: ${issues.slice(0, 4).join('; ')}${more}`,
    );
  }
}

export const targetLayout = (t: Pick<ReshardTarget, 'spec' | 'stage' | 'tp'>): ParamLayout =>
  layoutParams(stageParamDefs(t.spec, t.stage, t.tp.size));

/** The target rank's state from full tensors that include every name of its layout. */
export function reshardTensors(full: ReadonlyMap<string, FullTensor>, step: number, t: ReshardTarget): ReshardedState {
  const layout = targetLayout(t);
  const optRange = t.optRange ?? { start: 0, end: layout.total };
  const moments = t.moments ?? true;
  if (!(optRange.start >= 0 && optRange.end >= optRange.start))
    throw new CheckpointError('incompatible', `target optRange [${optRange.start}, ${optRange.end}) is not a range`);
  if (t.init && t.init.length !== layout.total)
    throw new CheckpointError(
      'incompatible',
      `init has ${t.init.length} values, the target layout has ${layout.total}`,
    );
  const params = new Float32Array(layout.total);
  const mFull = new Float32Array(moments ? layout.total : 0),
    vFull = new Float32Array(moments ? layout.total : 0);
  for (const slot of layout.slots) {
    const src = full.get(slot.name);
    if (!src) throw new CheckpointError('not_found', `tensor ${slot.name} was not assembled`);
    if (slot.tp === 'vocab') {
      // (V, C): rows [start, start + count) of the target's padded vocabulary
      const [Vs, C] = src.shape;
      const { start, count } = vocabRange(slot.fullShape[0], t.tp);
      const common = Math.max(0, Math.min(count, Vs - start));
      params.set(src.param.subarray(start * C, (start + common) * C), slot.offset);
      if (t.init)
        params.set(t.init.subarray(slot.offset + common * C, slot.offset + count * C), slot.offset + common * C);
      if (moments) {
        mFull.set(src.m!.subarray(start * C, (start + common) * C), slot.offset);
        vFull.set(src.v!.subarray(start * C, (start + common) * C), slot.offset);
      }
      continue;
    }
    params.set(shardTensor(slot.tp, slot.fullShape, src.param, t.tp), slot.offset);
    if (moments) {
      mFull.set(shardTensor(slot.tp, slot.fullShape, src.m!, t.tp), slot.offset);
      vFull.set(shardTensor(slot.tp, slot.fullShape, src.v!, t.tp), slot.offset);
    }
  }
  const cut = (flat: Float32Array) => {
    const out = new Float32Array(optRange.end - optRange.start);
    if (moments && optRange.start < layout.total)
      out.set(flat.subarray(optRange.start, Math.min(optRange.end, layout.total)));
    return out;
  };
  return { step, layout, params, m: cut(mFull), v: cut(vFull), optRange };
}

/** Loads one target rank's state from a checkpoint, fetching only the files it needs. */
export async function loadRankState(
  manifest: Manifest,
  readFile: ReadFile,
  target: ReshardTarget,
): Promise<ReshardedState & { fetched: string[] }> {
  checkCompatible(manifest.spec, target.spec);
  const reader = new CheckpointReader(manifest, readFile);
  const names = targetLayout(target).slots.map((s) => s.name);
  const full = await reader.tensors(names, { moments: target.moments ?? true });
  const training = await reader.training();
  return {
    ...reshardTensors(full, manifest.step, target),
    fetched: reader.fetched,
    ...(training ? { training } : {}),
  };
}
