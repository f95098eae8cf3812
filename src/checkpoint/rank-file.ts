// One rank's checkpoint file: safetensors, every tensor F32, self-describing metadata.
//
//   param/<name>      (TP-local shape)   the rank's parameters; only dp == 0 ranks write them
//   adam.m/<name>     (TP-local shape)   Adam moments per parameter      (moments = per-param,
//   adam.v/<name>     (TP-local shape)                                     no ZeRO: [0, total))
//   adam.m.flat       (end - start)      the rank's ZeRO shard of the flat moment vector
//   adam.v.flat       (end - start)      [start, end) of its flat layout  (moments = flat)
//
// Metadata (strings): format, version, step, coord {rank,tp,pp,dp}, stage (StageRange),
// layout (CheckpointLayout), spec (ModelSpec), moments, opt_range {start,end}, layout_total —
// all JSON except format/moments. The flat layout is layoutParams(stageParamDefs(spec, stage,
// layout.tp)); alignment padding inside it is zero and is not stored per parameter.

import type { ZodType } from 'zod';
import { layoutParams, stageParamDefs, type ParamLayout, type StageRange } from '../model/params';
import type { ModelSpec } from '../model/spec';
import { rankOf } from '../parallel/grid';
import {
  CheckpointError,
  momentsKind,
  writesFile,
  writesParams,
  type CheckpointLayout,
  type MomentsKind,
  type OptRange,
  type RankCoord,
  type RankState,
  type TrainingMeta,
} from './layout';
import { z } from 'zod';
import { readSafetensorsHeader } from './safetensors-header';
import { readSafetensors, writeSafetensors, type NamedTensor } from './safetensors';
import {
  CoordSchema,
  LayoutSchema,
  ModelSpecSchema,
  OptRangeSchema,
  StageSchema,
  parseJson,
  parseWith,
} from './schemas';

export const RANK_FILE_FORMAT = 'tabtron-rank-checkpoint';
export const RANK_FILE_VERSION = 1;

export const paramKey = (name: string) => `param/${name}`;
export const momentKey = (which: 'm' | 'v', name: string) => `adam.${which}/${name}`;
export const flatMomentKey = (which: 'm' | 'v') => `adam.${which}.flat`;

/** What a rank file says about itself (its metadata, checked against its tensors). */
export interface RankFileHeader {
  step: number;
  coord: RankCoord;
  stage: StageRange;
  layout: CheckpointLayout;
  spec: ModelSpec;
  moments: MomentsKind;
  optRange: OptRange;
  /** layout.total of the rank's flat parameter vector */
  paramTotal: number;
  hasParams: boolean;
  /** tensor names in file order */
  tensors: string[];
  /** mixed precision: skipped steps and the loss scaler (metadata `training`, optional) */
  training?: TrainingMeta;
}

const TrainingSchema: z.ZodType<TrainingMeta> = z.strictObject({
  skippedSteps: z.number().int().min(0),
  lossScaler: z
    .strictObject({
      scale: z.number().positive(),
      curIter: z.number().int().min(0),
      lastOverflowIter: z.number().int().min(-1),
      curHysteresis: z.number().int(),
    })
    .optional(),
});

export interface DecodedRankFile {
  header: RankFileHeader;
  /** (paramTotal) the flat parameters, or null for a ZeRO rank with dp > 0 */
  params: Float32Array | null;
  /** (optRange.end - optRange.start) */
  m: Float32Array;
  v: Float32Array;
}

export const rankLayout = (spec: ModelSpec, stage: StageRange, tp: number): ParamLayout =>
  layoutParams(stageParamDefs(spec, stage, tp));

function fail(source: string, message: string): never {
  throw new CheckpointError('invalid_file', `${source}: ${message}`);
}

export function encodeRankFile(spec: ModelSpec, layout: CheckpointLayout, s: RankState): Uint8Array {
  const who = `rank ${s.coord.rank}`;
  checkCoord(layout, s.coord, who);
  if (!writesFile(layout, s.coord))
    fail(who, `dp ${s.coord.dp} writes no file without ZeRO (its replica dp 0 saves the same state)`);
  const pl = rankLayout(spec, s.stage, layout.tp);
  const kind = momentsKind(layout);
  if (s.params.length !== pl.total)
    fail(who, `params has ${s.params.length} values, the stage's layout has ${pl.total}`);
  const { start, end } = s.optRange;
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end >= start))
    fail(who, `bad optRange [${start}, ${end})`);
  if (kind === 'per-param' && (start !== 0 || end !== pl.total))
    fail(who, `without ZeRO the moments must cover [0, ${pl.total}), got [${start}, ${end})`);
  for (const [k, a] of [
    ['m', s.m],
    ['v', s.v],
  ] as const) {
    if (a.length !== end - start) fail(who, `${k} has ${a.length} values for optRange [${start}, ${end})`);
  }
  const tensors: Record<string, NamedTensor> = {};
  const view = (a: Float32Array, slot: { offset: number; length: number }) =>
    a.subarray(slot.offset, slot.offset + slot.length);
  if (writesParams(s.coord))
    for (const sl of pl.slots) tensors[paramKey(sl.name)] = { dtype: 'F32', shape: sl.shape, data: view(s.params, sl) };
  if (kind === 'per-param') {
    for (const which of ['m', 'v'] as const) {
      for (const sl of pl.slots)
        tensors[momentKey(which, sl.name)] = { dtype: 'F32', shape: sl.shape, data: view(s[which], sl) };
    }
  } else {
    tensors[flatMomentKey('m')] = { dtype: 'F32', shape: [end - start], data: s.m };
    tensors[flatMomentKey('v')] = { dtype: 'F32', shape: [end - start], data: s.v };
  }
  return writeSafetensors(tensors, {
    format: RANK_FILE_FORMAT,
    version: String(RANK_FILE_VERSION),
    step: String(s.step),
    coord: JSON.stringify(s.coord),
    stage: JSON.stringify(s.stage),
    layout: JSON.stringify(layout),
    spec: JSON.stringify(spec),
    moments: kind,
    opt_range: JSON.stringify(s.optRange),
    layout_total: String(pl.total),
    ...(s.training ? { training: JSON.stringify(s.training) } : {}),
  });
}

function checkCoord(layout: CheckpointLayout, c: RankCoord, source: string): void {
  if (c.tp >= layout.tp || c.pp >= layout.pp || c.dp >= layout.dp || rankOf(layout, c) !== c.rank) {
    fail(
      source,
      `coordinates (tp ${c.tp}, pp ${c.pp}, dp ${c.dp}) are not rank ${c.rank} of ${layout.tp}×${layout.pp}×${layout.dp} (rank = tp + TP·dp + TP·DP·pp)`,
    );
  }
}

/** The file's metadata, checked against its tensor list; reads only the header. */
export function describeRankFile(bytes: Uint8Array, source: string, fileSize = bytes.length): RankFileHeader {
  let h: ReturnType<typeof readSafetensorsHeader>;
  try {
    h = readSafetensorsHeader(bytes, source, fileSize);
  } catch (e) {
    throw new CheckpointError('invalid_file', (e as Error).message);
  }
  const md = h.metadata;
  const key = (k: string) => {
    if (typeof md[k] !== 'string') fail(source, `metadata key "${k}" is missing`);
    return md[k];
  };
  if (key('format') !== RANK_FILE_FORMAT)
    fail(source, `metadata format is "${md.format}", expected "${RANK_FILE_FORMAT}"`);
  if (key('version') !== String(RANK_FILE_VERSION))
    fail(source, `format version ${md.version} is not supported (this reader knows ${RANK_FILE_VERSION})`);
  const json = <T>(k: string, schema: ZodType<T>): T =>
    parseWith(
      schema,
      parseJson(key(k), `${source}: metadata ${k}`, 'invalid_file'),
      `${source}: metadata ${k}`,
      'invalid_file',
    );
  const step = Number(key('step'));
  if (!Number.isInteger(step) || step < 0) fail(source, `metadata step "${md.step}" is not a non-negative integer`);
  const coord = json('coord', CoordSchema),
    stage = json('stage', StageSchema),
    layout = json('layout', LayoutSchema);
  const spec = json('spec', ModelSpecSchema),
    optRange = json('opt_range', OptRangeSchema);
  const moments = key('moments');
  if (moments !== momentsKind(layout))
    fail(
      source,
      `metadata moments "${moments}" does not fit ZeRO stage ${layout.zeroStage} (expected "${momentsKind(layout)}")`,
    );
  checkCoord(layout, coord, source);
  if (stage.endLayer > spec.L)
    fail(source, `stage layers [${stage.firstLayer}, ${stage.endLayer}) exceed the model's ${spec.L}`);
  let pl: ParamLayout;
  try {
    pl = rankLayout(spec, stage, layout.tp);
  } catch (e) {
    fail(source, (e as Error).message);
  }
  if (Number(key('layout_total')) !== pl.total)
    fail(source, `layout_total ${md.layout_total} is not the stage's layout size ${pl.total}`);
  const hasParams = writesParams(coord);
  const expected = new Map<string, number[]>();
  if (hasParams) for (const sl of pl.slots) expected.set(paramKey(sl.name), sl.shape);
  if (moments === 'per-param') {
    if (optRange.start !== 0 || optRange.end !== pl.total)
      fail(source, `per-parameter moments need opt_range [0, ${pl.total}), got [${optRange.start}, ${optRange.end})`);
    for (const w of ['m', 'v'] as const) for (const sl of pl.slots) expected.set(momentKey(w, sl.name), sl.shape);
  } else {
    for (const w of ['m', 'v'] as const) expected.set(flatMomentKey(w), [optRange.end - optRange.start]);
  }
  for (const [name, shape] of expected) {
    const t = h.tensors.get(name);
    if (!t) fail(source, `tensor ${name} is missing`);
    if (t.dtype !== 'F32') fail(source, `tensor ${name} is ${t.dtype}, expected F32`);
    if (t.shape.join(',') !== shape.join(','))
      fail(source, `tensor ${name} has shape [${t.shape}], expected [${shape}]`);
  }
  for (const name of h.tensors.keys()) if (!expected.has(name)) fail(source, `unexpected tensor ${name}`);
  const training = typeof md.training === 'string' ? json('training', TrainingSchema) : undefined;
  return {
    step,
    coord,
    stage,
    layout,
    spec,
    moments,
    optRange,
    paramTotal: pl.total,
    hasParams,
    tensors: [...h.tensors.keys()],
    ...(training ? { training } : {}),
  };
}

/** Header and data; moments as the flat range the file covers ([0, total) without ZeRO). */
export function decodeRankFile(bytes: Uint8Array, source: string): DecodedRankFile {
  const header = describeRankFile(bytes, source);
  let tensors: Record<string, NamedTensor>;
  try {
    tensors = readSafetensors(bytes, source).tensors;
  } catch (e) {
    throw new CheckpointError('invalid_file', (e as Error).message);
  }
  const pl = rankLayout(header.spec, header.stage, header.layout.tp);
  const data = (k: string) => tensors[k].data as Float32Array;
  let params: Float32Array | null = null;
  if (header.hasParams) {
    params = new Float32Array(pl.total);
    for (const sl of pl.slots) params.set(data(paramKey(sl.name)), sl.offset);
  }
  const moment = (w: 'm' | 'v') => {
    if (header.moments === 'flat') return data(flatMomentKey(w));
    const flat = new Float32Array(pl.total);
    for (const sl of pl.slots) flat.set(data(momentKey(w, sl.name)), sl.offset);
    return flat;
  };
  return { header, params, m: moment('m'), v: moment('v') };
}

/** A decoded file back as the RankState that was saved (dp == 0 files only: others hold no params). */
export function rankStateOf(d: DecodedRankFile, source: string): RankState {
  if (!d.params)
    fail(source, `rank ${d.header.coord.rank} (dp ${d.header.coord.dp}) holds only its moment shard, no parameters`);
  return {
    step: d.header.step,
    coord: d.header.coord,
    stage: d.header.stage,
    params: d.params,
    m: d.m,
    v: d.v,
    optRange: d.header.optRange,
  };
}
