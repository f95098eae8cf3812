// Synthetic checkpoints for tests: a random full model (params and Adam moments of every
// tensor, unsplit) and the RankState each rank of any layout would hold for it, built with
// the model's own stageParamDefs / layoutParams / shardTensor.

import { layoutParams, paramDefs, stageParamDefs, type StageRange } from '../model/params';
import type { ModelSpec } from '../model/spec';
import { shardTensor } from '../model/tp-shard';
import { coordOf } from '../parallel/grid';
import { Rng } from '../util/rng';
import type { CheckpointLayout, OptRange, RankState } from './layout';

export function tinySpec(o: Partial<ModelSpec> = {}): ModelSpec {
  return {
    V: 64,
    C: 16,
    L: 4,
    H: 4,
    hd: 4,
    F: 64,
    T: 8,
    maxPos: 8,
    norm: 'layernorm',
    normEps: 1e-5,
    posEmb: 'learned',
    rotaryDims: 0,
    rotaryBase: 10000,
    tied: true,
    parallelResidual: false,
    hiddenDropout: 0,
    attentionDropout: 0,
    initStd: 0.02,
    initMethod: 'normal',
    outputInitMethod: 'scaled_normal',
    seed: 1,
    ...o,
  };
}

export interface FullState {
  param: Float32Array;
  m: Float32Array;
  v: Float32Array;
}

/** Every tensor of `spec` at full shape, with distinct random params and moments (v > 0). */
export function randomModel(spec: ModelSpec, seed = 7): Map<string, FullState> {
  const rng = new Rng(seed);
  const fill = (n: number, f: () => number) => Float32Array.from({ length: n }, f);
  return new Map(
    paramDefs(spec).map((d) => {
      const n = d.fullShape.reduce((a, b) => a * b, 1);
      return [
        d.name,
        {
          param: fill(n, () => rng.normal()),
          m: fill(n, () => rng.normal() * 1e-2),
          v: fill(n, () => rng.uniform() * 1e-4 + 1e-8),
        },
      ];
    }),
  );
}

/** Layers split as evenly as possible over `pp` stages (first stages take the remainder); with
 *  `virtualChunks` v > 1 over P·v model chunks, stage s holding chunks s, P + s, … (interleaved 1F1B). */
export function stagesOf(spec: ModelSpec, pp: number, virtualChunks = 1): StageRange[] {
  const parts = pp * virtualChunks;
  const base = Math.floor(spec.L / parts),
    extra = spec.L % parts;
  const bounds = [0];
  for (let g = 0; g < parts; g++) bounds.push(bounds[g] + base + (g < extra ? 1 : 0));
  return Array.from({ length: pp }, (_, p) => {
    const chunks = Array.from({ length: virtualChunks }, (_, k): [number, number] => [
      bounds[k * pp + p],
      bounds[k * pp + p + 1],
    ]);
    const st: StageRange = {
      firstLayer: chunks[0][0],
      endLayer: chunks[virtualChunks - 1][1],
      hasEmbedding: p === 0,
      hasHead: p === pp - 1,
    };
    return virtualChunks > 1 ? { ...st, chunks } : st;
  });
}

export const layoutOf = (tp: number, pp: number, dp: number, zeroStage = 0): CheckpointLayout => ({
  tp,
  pp,
  dp,
  zeroStage,
  world: tp * pp * dp,
});

/** ZeRO-1 style DP shard of a flat vector of `total`: equal chunks (rounded up to 96 elements, so
 *  boundaries cut through tensors and the last chunk reaches into the zero padding past total). */
export function zeroRange(total: number, dp: number, d: number): OptRange {
  const chunk = Math.ceil(total / dp / 96) * 96;
  return { start: d * chunk, end: (d + 1) * chunk };
}

/** The flat params, and moments over [0, total), of one (stage, tp rank) from a full model. */
export function flatOf(spec: ModelSpec, model: Map<string, FullState>, stage: StageRange, tp: number, tpRank: number) {
  const layout = layoutParams(stageParamDefs(spec, stage, tp));
  const params = new Float32Array(layout.total),
    m = new Float32Array(layout.total),
    v = new Float32Array(layout.total);
  for (const s of layout.slots) {
    const f = model.get(s.name)!;
    params.set(shardTensor(s.tp, s.fullShape, f.param, { size: tp, rank: tpRank }), s.offset);
    m.set(shardTensor(s.tp, s.fullShape, f.m, { size: tp, rank: tpRank }), s.offset);
    v.set(shardTensor(s.tp, s.fullShape, f.v, { size: tp, rank: tpRank }), s.offset);
  }
  return { layout, params, m, v };
}

export function cutRange(flat: Float32Array, r: OptRange): Float32Array {
  const out = new Float32Array(r.end - r.start);
  out.set(flat.subarray(r.start, Math.min(r.end, flat.length)));
  return out;
}

/** What every rank of `layout` holds for `model` after `step` steps. */
export function rankStates(
  spec: ModelSpec,
  model: Map<string, FullState>,
  layout: CheckpointLayout,
  step = 10,
  virtualChunks = 1,
): RankState[] {
  const stages = stagesOf(spec, layout.pp, virtualChunks);
  return Array.from({ length: layout.world }, (_, rank) => {
    const coord = coordOf(layout, rank);
    const f = flatOf(spec, model, stages[coord.pp], layout.tp, coord.tp);
    const optRange =
      layout.zeroStage >= 1 ? zeroRange(f.layout.total, layout.dp, coord.dp) : { start: 0, end: f.layout.total };
    return {
      step,
      coord,
      stage: stages[coord.pp],
      params: f.params,
      m: cutRange(f.m, optRange),
      v: cutRange(f.v, optRange),
      optRange,
    };
  });
}

/** Bit patterns, so equality is exact (no -0/+0 or NaN leniency). */
export const bits = (a: Float32Array): Uint32Array =>
  new Uint32Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
