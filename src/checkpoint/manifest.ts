// manifest.json of one checkpoint iteration: written last, so a listed checkpoint is whole.
//
//   { format: "tabtron-checkpoint", version: 1, iteration, step, createdAt,
//     layout: {tp, pp, dp, zeroStage, world}, spec: ModelSpec,
//     files: [{ name: "rank_00003.safetensors", rank, coord: {rank,tp,pp,dp}, stage: StageRange,
//               bytes, sha256 (hex), params: bool, moments: "per-param"|"flat", optRange: {start,end},
//               tensors: [names] }] }    (one entry per writing rank, ascending rank)
//
// parseManifest checks the schema and that the files are exactly the layout's writers, with
// coordinates, names and contents that fit it; every error names the file and key at fault.

import { z } from 'zod';
import type { ModelSpec } from '../model/spec';
import { coordOf } from '../parallel/grid';
import {
  CheckpointError,
  MANIFEST_NAME,
  momentsKind,
  rankFileName,
  sameLayout,
  writerRanks,
  writesParams,
  type CheckpointLayout,
  type MomentsKind,
  type OptRange,
  type RankCoord,
} from './layout';
import type { RankFileHeader } from './rank-file';
import {
  CoordSchema,
  LayoutSchema,
  ModelSpecSchema,
  OptRangeSchema,
  StageSchema,
  parseJson,
  parseWith,
} from './schemas';
import type { StageRange } from '../model/params';

export const MANIFEST_FORMAT = 'tabtron-checkpoint';
export const MANIFEST_VERSION = 1;

export interface ManifestFile {
  name: string;
  rank: number;
  coord: RankCoord;
  stage: StageRange;
  bytes: number;
  sha256: string;
  params: boolean;
  moments: MomentsKind;
  optRange: OptRange;
  tensors: string[];
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  iteration: number;
  step: number;
  createdAt: string;
  layout: CheckpointLayout;
  spec: ModelSpec;
  files: ManifestFile[];
}

const ManifestFileSchema: z.ZodType<ManifestFile> = z.strictObject({
  name: z.string().min(1),
  rank: z.number().int().min(0),
  coord: CoordSchema,
  stage: StageSchema,
  bytes: z.number().int().min(0),
  sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits'),
  params: z.boolean(),
  moments: z.enum(['per-param', 'flat']),
  optRange: OptRangeSchema,
  tensors: z.array(z.string()),
});

const ManifestSchema: z.ZodType<Manifest> = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  version: z.literal(MANIFEST_VERSION),
  iteration: z.number().int().min(0),
  step: z.number().int().min(0),
  createdAt: z.string(),
  layout: LayoutSchema,
  spec: ModelSpecSchema,
  files: z.array(ManifestFileSchema),
});

/** A manifest from its JSON text (or parsed value); `source` names it in errors. */
export function parseManifest(input: string | unknown, source = MANIFEST_NAME): Manifest {
  const data = typeof input === 'string' ? parseJson(input, source, 'invalid_manifest') : input;
  const m = parseWith(ManifestSchema, data, source, 'invalid_manifest');
  const bad = (i: number, msg: string): never => {
    throw new CheckpointError('invalid_manifest', `${source}: files[${i}] (${m.files[i].name}): ${msg}`);
  };
  const writers = writerRanks(m.layout);
  const ranks = m.files.map((f) => f.rank);
  const missing = writers.filter((r) => !ranks.includes(r));
  if (missing.length) {
    throw new CheckpointError(
      'invalid_manifest',
      `${source}: files: no entry for rank${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (the layout ${m.layout.tp}×${m.layout.pp}×${m.layout.dp}, ZeRO ${m.layout.zeroStage}, writes ranks ${writers.join(', ')})`,
    );
  }
  const stages = new Map<number, string>();
  m.files.forEach((f, i) => {
    if (!writers.includes(f.rank))
      bad(i, `rank ${f.rank} is not a writer of this layout (writers: ${writers.join(', ')})`);
    if (ranks.indexOf(f.rank) !== i) bad(i, `rank ${f.rank} is listed twice`);
    if (f.name !== rankFileName(f.rank)) bad(i, `name should be ${rankFileName(f.rank)} for rank ${f.rank}`);
    const c = coordOf(m.layout, f.rank);
    if (f.coord.rank !== f.rank || f.coord.tp !== c.tp || f.coord.pp !== c.pp || f.coord.dp !== c.dp) {
      bad(
        i,
        `coord (tp ${f.coord.tp}, pp ${f.coord.pp}, dp ${f.coord.dp}) is not rank ${f.rank}'s (tp ${c.tp}, pp ${c.pp}, dp ${c.dp})`,
      );
    }
    if (f.params !== writesParams(c))
      bad(i, `params is ${f.params}, but dp ${c.dp} ranks ${writesParams(c) ? 'do' : 'do not'} save parameters`);
    if (f.moments !== momentsKind(m.layout))
      bad(i, `moments "${f.moments}" does not fit ZeRO stage ${m.layout.zeroStage}`);
    if (f.stage.endLayer > m.spec.L)
      bad(i, `stage layers [${f.stage.firstLayer}, ${f.stage.endLayer}) exceed the model's ${m.spec.L}`);
    const st = JSON.stringify(f.stage),
      prev = stages.get(c.pp);
    if (prev !== undefined && prev !== st)
      bad(i, `stage ${st} differs from another rank of pipeline stage ${c.pp} (${prev})`);
    stages.set(c.pp, st);
  });
  return m;
}

export interface ReceivedFile {
  name: string;
  bytes: number;
  sha256: string;
  header: RankFileHeader;
}

/** The manifest of a complete set of rank files (each described by describeRankFile). */
export function makeManifest(
  iteration: number,
  layout: CheckpointLayout,
  received: readonly ReceivedFile[],
  createdAt = new Date(),
): Manifest {
  const files = [...received].sort((a, b) => a.header.coord.rank - b.header.coord.rank);
  if (files.length === 0) throw new CheckpointError('invalid_manifest', `iteration ${iteration}: no files`);
  const first = files[0].header;
  for (const f of files) {
    const h = f.header;
    if (!sameLayout(h.layout, layout))
      throw new CheckpointError(
        'layout_mismatch',
        `${f.name}: saved with layout ${JSON.stringify(h.layout)}, the checkpoint's is ${JSON.stringify(layout)}`,
      );
    if (h.step !== first.step)
      throw new CheckpointError(
        'invalid_file',
        `${f.name}: step ${h.step}, but ${files[0].name} has step ${first.step}`,
      );
    if (JSON.stringify(h.spec) !== JSON.stringify(first.spec))
      throw new CheckpointError('invalid_file', `${f.name}: model spec differs from ${files[0].name}'s`);
  }
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    iteration,
    step: first.step,
    createdAt: createdAt.toISOString(),
    layout,
    spec: first.spec,
    files: files.map(manifestEntryOf),
  };
  return parseManifest(manifest, `iteration ${iteration} manifest`);
}

export function manifestEntryOf(f: ReceivedFile): ManifestFile {
  const h = f.header;
  return {
    name: f.name,
    rank: h.coord.rank,
    coord: h.coord,
    stage: h.stage,
    bytes: f.bytes,
    sha256: f.sha256,
    params: h.hasParams,
    moments: h.moments,
    optRange: h.optRange,
    tensors: h.tensors,
  };
}
