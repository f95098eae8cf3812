// zod schemas of the pieces a manifest and a rank file's metadata share (model spec, layout,
// rank coordinates, pipeline stage, moment range), and error text that names the key at fault.

import { z } from 'zod';
import type { StageRange } from '../model/params';
import type { ModelSpec } from '../model/spec';
import {
  CheckpointError,
  type CheckpointErrorCode,
  type CheckpointLayout,
  type OptRange,
  type RankCoord,
} from './layout';

const count = z.number().int().min(0);
const positive = z.number().int().min(1);
const finite = z.number().finite();
const INIT_KINDS = [
  'normal',
  'scaled_normal',
  'small_init',
  'wang_init',
  'xavier_normal',
  'xavier_uniform',
  'orthogonal',
] as const;

/** Every ModelSpec field is checked; fields added to ModelSpec later are kept, not dropped. */
export const ModelSpecSchema = z.looseObject({
  V: positive,
  C: positive,
  L: count,
  H: positive,
  hd: positive,
  F: positive,
  T: positive,
  maxPos: count,
  norm: z.enum(['layernorm', 'rmsnorm']),
  normEps: finite,
  posEmb: z.enum(['learned', 'rotary', 'none']),
  rotaryDims: count,
  rotaryBase: finite,
  tied: z.boolean(),
  parallelResidual: z.boolean(),
  hiddenDropout: finite,
  attentionDropout: finite,
  initStd: finite,
  initMethod: z.enum(INIT_KINDS),
  outputInitMethod: z.enum(INIT_KINDS),
  seed: z.number().int(),
}) as unknown as z.ZodType<ModelSpec>;

export const LayoutSchema: z.ZodType<CheckpointLayout> = z
  .strictObject({
    tp: positive,
    pp: positive,
    dp: positive,
    zeroStage: z.number().int().min(0).max(3),
    world: positive,
  })
  .refine((l) => l.world === l.tp * l.pp * l.dp, { message: 'world must be tp × pp × dp' });

export const CoordSchema: z.ZodType<RankCoord> = z.strictObject({ rank: count, tp: count, pp: count, dp: count });

export const StageSchema: z.ZodType<StageRange> = z
  .strictObject({
    firstLayer: count,
    endLayer: count,
    hasEmbedding: z.boolean(),
    hasHead: z.boolean(),
    chunks: z
      .array(z.tuple([count, count]))
      .min(1)
      .optional(),
  })
  .refine((s) => s.endLayer >= s.firstLayer, { message: 'endLayer must be >= firstLayer' })
  .refine((s) => !s.chunks || s.chunks.every(([a, b]) => b >= a && a >= s.firstLayer && b <= s.endLayer), {
    message: 'every chunk must be a layer range inside [firstLayer, endLayer)',
  });

export const OptRangeSchema: z.ZodType<OptRange> = z
  .strictObject({ start: count, end: count })
  .refine((r) => r.end >= r.start, { message: 'end must be >= start' });

/** `files[3].sha256: expected a string` style: the first few issues, each with its key path. */
export function describeIssues(err: z.ZodError): string {
  const path = (p: readonly PropertyKey[]) =>
    p.reduce<string>((s, k) => (typeof k === 'number' ? `${s}[${k}]` : s ? `${s}.${String(k)}` : String(k)), '');
  return err.issues
    .slice(0, 4)
    .map((i) => `${path(i.path) || '(root)'}: ${i.message}`)
    .join('; ');
}

export function parseWith<T>(schema: z.ZodType<T>, data: unknown, source: string, code: CheckpointErrorCode): T {
  const r = schema.safeParse(data);
  if (!r.success) throw new CheckpointError(code, `${source}: ${describeIssues(r.error)}`);
  return r.data;
}

/** JSON text → value, with the source named when it does not parse. */
export function parseJson(text: string, source: string, code: CheckpointErrorCode): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CheckpointError(code, `${source}: not valid JSON (${(e as Error).message})`);
  }
}
