// Every message between the coordinator and a contributor tab, in one place.
//
// Transport: HTTP for joining (POST /api/runs/:id/join), then one WebSocket per tab
// (path WS_PATH) carrying JSON text frames. Each direction is a `{type, ...}` union
// checked with zod at the boundary; handlers switch on `type` with a `never` check, so
// adding a message (issue 6: training traffic) is: add a schema here, add it to the
// union, and the compiler points at every switch that must handle it.

import { z } from 'zod';

export const PROTOCOL_VERSION = 2;
export const WS_PATH = '/ws';
/** Largest WebSocket frame the coordinator accepts from a tab. */
export const MAX_TAB_MESSAGE_BYTES = 64 * 1024;

// ---- shared pieces -------------------------------------------------------------

const Text = (max: number) => z.string().max(max);
export const IdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'expected 1-64 letters, digits, _ or -');
const RankNum = z
  .number()
  .int()
  .min(0)
  .max(1 << 16);
const Ms = z.number().finite().min(0);

export const DeviceInfoSchema = z.strictObject({
  webgpu: z.boolean(),
  adapter: z
    .strictObject({
      vendor: Text(200),
      architecture: Text(200),
      device: Text(200).optional(),
      description: Text(500).optional(),
      isFallbackAdapter: z.boolean().optional(),
    })
    .optional(),
  limits: z
    .record(Text(64), z.number())
    .refine((r) => Object.keys(r).length <= 128, 'at most 128 limits')
    .optional(),
  features: z.array(Text(64)).max(64).optional(),
  userAgent: Text(500).optional(),
  hidden: z.boolean().optional(),
});
export type DeviceInfo = z.infer<typeof DeviceInfoSchema>;

export const CoordsSchema = z.strictObject({ tp: RankNum, pp: RankNum, dp: RankNum });
export type Coords = z.infer<typeof CoordsSchema>;

/** What one rank computes and who it talks to. Sent once per (participant, rank). */
export const AssignmentSchema = z.strictObject({
  runId: IdSchema,
  participantId: IdSchema,
  peerId: IdSchema,
  rank: RankNum,
  coords: CoordsSchema,
  sizes: z.strictObject({ tp: RankNum, pp: RankNum, dp: RankNum, world: RankNum }),
  /** Ranks of this rank's tensor-, pipeline- and data-parallel groups (itself included). */
  groups: z.strictObject({ tp: z.array(RankNum), pp: z.array(RankNum), dp: z.array(RankNum) }),
  /** Transformer layers held by this pipeline stage: [start, end). */
  layers: z.strictObject({ start: RankNum, end: RankNum }),
  /** Tensor-parallel shard of every split weight: index `tp` of `count`. */
  shard: z.strictObject({ index: RankNum, count: RankNum }),
  /** Data slice: this data-parallel replica reads samples dpRank, dpRank+dpSize, ... */
  data: z.strictObject({
    dpRank: RankNum,
    dpSize: RankNum,
    microBatchSize: RankNum,
    gradientAccumulationSteps: RankNum,
    seqLength: RankNum,
  }),
  /** The resolved NeoX config (underscore keys) and the full plan, for the worker. */
  config: z.record(z.string(), z.unknown()),
  plan: z.record(z.string(), z.unknown()),
});
export type Assignment = z.infer<typeof AssignmentSchema>;

export const PeerEntrySchema = z.strictObject({ rank: RankNum, peerId: IdSchema.nullable() });
export type PeerEntry = z.infer<typeof PeerEntrySchema>;

const Step = RankNum.max(1e9);
const Generation = z.number().int().min(1).max(1e9);

/** The layout a generation trains in: the config's TP and PP; DP may be smaller than the
 *  config's while replicas are missing, with gradient accumulation raised to keep the global batch. */
export const ElasticLayoutSchema = z.strictObject({ tp: RankNum, pp: RankNum, dp: RankNum, accum: RankNum });
export type ElasticLayout = z.infer<typeof ElasticLayoutSchema>;

/** Where a rank's state at the generation's step comes from, fastest first:
 *  keep   the tab has it in memory (after at most one step of undo);
 *  dp-peer another rank of the new layout (a data-parallel replica of the same stage and shard) sends it;
 *  local  the tab's own snapshot (IndexedDB), e.g. after a reload;
 *  checkpoint the run's (or `load`'s) complete checkpoint of that iteration;
 *  init   fresh weights at step 0. */
export const RestoreSourceSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('keep') }),
  z.strictObject({ kind: z.literal('dp-peer'), from: RankNum }),
  z.strictObject({ kind: z.literal('local') }),
  z.strictObject({ kind: z.literal('checkpoint'), iteration: Step, source: z.enum(['save', 'load']) }),
  z.strictObject({ kind: z.literal('init') }),
]);
export type RestoreSource = z.infer<typeof RestoreSourceSchema>;
export type RestoreKind = RestoreSource['kind'];

/** One membership generation for one rank: every rank of the layout resumes from `step`. */
export const GenerationPlanSchema = z.strictObject({
  generation: Generation,
  step: Step,
  layout: ElasticLayoutSchema,
  restore: RestoreSourceSchema,
  /** ranks (of this layout) this rank sends its state to: it is their dp-peer source */
  donate: z.array(RankNum).max(1024),
});
export type GenerationPlan = z.infer<typeof GenerationPlanSchema>;

/** What a halted rank can resume from without fetching anything, and its own snapshots. */
export const HaltReportSchema = z.strictObject({
  /** the step of the state in memory (null: none, e.g. a tab that just reloaded) */
  step: Step.nullable(),
  /** steps reachable from memory: the current one when whole, and one step of undo */
  reachable: z.array(Step).max(4),
  /** steps of this tab's local snapshots for the rank it holds */
  snapshots: z.array(Step).max(64),
});
export type HaltReport = z.infer<typeof HaltReportSchema>;

export const SpanKindSchema = z.enum(['forward', 'backward', 'send', 'recv', 'allreduce', 'optimizer', 'idle']);
export const SpanSchema = z.strictObject({
  kind: SpanKindSchema,
  microbatch: RankNum.optional(),
  startMs: Ms,
  endMs: Ms,
});
export type Span = z.infer<typeof SpanSchema>;

export const TimingsSchema = z.strictObject({
  forwardMs: Ms.optional(),
  backwardMs: Ms.optional(),
  commMs: Ms.optional(),
  optimizerMs: Ms.optional(),
  stepMs: Ms.optional(),
});

// ---- HTTP: joining ---------------------------------------------------------------

export const JoinRequestSchema = z.strictObject({
  joinToken: Text(256).min(1),
  device: DeviceInfoSchema,
  /** Set when a tab re-joins after a reload with the credentials it got before. */
  resume: z.strictObject({ participantId: IdSchema, secret: Text(256) }).optional(),
});
export type JoinRequest = z.infer<typeof JoinRequestSchema>;

export const JoinResponseSchema = z.strictObject({
  runId: IdSchema,
  participantId: IdSchema,
  /** Presented in the WebSocket `hello`; never sent again by the coordinator. */
  secret: z.string(),
  peerId: IdSchema,
  wsPath: z.string(),
  peerServer: z.strictObject({ path: z.string(), key: z.string() }).nullable(),
});
export type JoinResponse = z.infer<typeof JoinResponseSchema>;

/** Body of every non-2xx HTTP answer. */
export const ApiErrorSchema = z.strictObject({ error: z.strictObject({ code: z.string(), message: z.string() }) });
export type ApiError = z.infer<typeof ApiErrorSchema>;

// ---- WebSocket: tab -> coordinator -------------------------------------------------

export const TabMessageSchema = z.discriminatedUnion('type', [
  /** First frame on every socket. */
  z.strictObject({
    type: z.literal('hello'),
    protocol: z.literal(PROTOCOL_VERSION),
    participantId: IdSchema,
    secret: Text(256),
    /** the membership generation the tab trains (absent or 0: none, e.g. just loaded) */
    generation: z.number().int().min(0).max(1e9).optional(),
  }),
  /** The rank has its state for the generation and is connected to its peers. */
  z.strictObject({ type: z.literal('ready'), rank: RankNum, generation: Generation.optional() }),
  /** The rank stopped at a safe point: asked to (halt), or because a peer failed (reason). */
  z.strictObject({
    type: z.literal('halted'),
    generation: z.number().int().min(0).max(1e9),
    reason: Text(500),
    report: HaltReportSchema,
  }),
  /** Where the rank's state came from in this generation, and how long restoring took. */
  z.strictObject({
    type: z.literal('restored'),
    generation: Generation,
    step: Step,
    from: z.enum(['keep', 'dp-peer', 'local', 'checkpoint', 'init']),
    ms: Ms,
  }),
  z.strictObject({
    type: z.literal('progress'),
    step: RankNum.max(1e9),
    loss: z.number().finite().optional(),
    valLoss: z.number().finite().optional(),
    tokensPerSec: z.number().finite().min(0).optional(),
    lr: z.number().finite().optional(),
    timings: TimingsSchema.optional(),
    /** mixed precision: the step's loss scale, and whether its gradients overflowed (step skipped) */
    lossScale: z.number().finite().positive().optional(),
    skipped: z.boolean().optional(),
  }),
  /** Pipeline timeline of one step; times are ms since the tab's own clock origin. */
  z.strictObject({ type: z.literal('spans'), step: RankNum.max(1e9), spans: z.array(SpanSchema).max(512) }),
  /** Traffic with peer ranks since the last report (sent once a step; src/comm/link-meter.ts):
   *  bytes sent to the peer and the ms sends to it were in progress; bytesIn/msIn: bytes that
   *  came from the peer over msIn ms of arrival (the peer → this rank link's throughput). */
  z.strictObject({
    type: z.literal('links'),
    links: z
      .array(
        z.strictObject({
          peerRank: RankNum,
          bytes: z.number().int().min(0),
          ms: Ms,
          bytesIn: z.number().int().min(0).optional(),
          msIn: Ms.optional(),
        }),
      )
      .max(256),
  }),
  /** One local-SGD sync of this rank's part of a parameter fragment (src/train/local-sgd). */
  z.strictObject({
    type: z.literal('round'),
    /** inner step after which the outer update was applied */
    step: RankNum.max(1e9),
    fragment: RankNum,
    fragments: RankNum.min(1),
    /** bytes this rank sent for the sync */
    bytes: z.number().int().min(0),
    /** ‖averaged pseudo-gradient‖₂ and ‖outer update‖₂ over this rank's part */
    deltaNorm: z.number().finite().min(0),
    updateNorm: z.number().finite().min(0),
    ms: Ms,
  }),
  z.strictObject({
    type: z.literal('checkpoint'),
    step: RankNum.max(1e9),
    name: Text(200).min(1),
    bytes: z.number().int().min(0),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .optional(),
  }),
  z.strictObject({ type: z.literal('visibility'), hidden: z.boolean() }),
  /** What the model writes now: a greedy continuation of a prompt, taken at an evaluation. */
  z.strictObject({ type: z.literal('sample'), step: Step, prompt: Text(2000), text: Text(4000) }),
  z.strictObject({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: Text(2000) }),
  z.strictObject({ type: z.literal('leave'), reason: Text(500).optional() }),
  z.strictObject({ type: z.literal('ping'), t: z.number().finite() }),
]);
export type TabMessage = z.infer<typeof TabMessageSchema>;

// ---- WebSocket: coordinator -> tab -------------------------------------------------

export const ControlMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('welcome'),
    protocol: z.literal(PROTOCOL_VERSION),
    runId: IdSchema,
    participantId: IdSchema,
    runState: z.string(),
  }),
  z.strictObject({ type: z.literal('assign'), assignment: AssignmentSchema }),
  /** No rank free: wait; `position` counts from 1 in the standby queue. */
  z.strictObject({ type: z.literal('standby'), position: RankNum }),
  /** Set up a generation: connect to the peers of `assignment` (PeerJS ids carry the
   *  generation), get the state at plan.step from plan.restore, send it to plan.donate, then `ready`. */
  z.strictObject({ type: z.literal('generation'), plan: GenerationPlanSchema, assignment: AssignmentSchema }),
  /** Stop at a safe point and report (`halted`): the run moves to `generation`. */
  z.strictObject({ type: z.literal('halt'), generation: Generation, reason: z.string() }),
  /** Every rank is ready: train from `step`. */
  z.strictObject({ type: z.literal('start'), step: Step, generation: Generation.optional() }),
  /** Current holders of every rank this rank must connect to (null: vacant). */
  z.strictObject({ type: z.literal('peers'), peers: z.array(PeerEntrySchema) }),
  z.strictObject({ type: z.literal('pause'), reason: z.string() }),
  z.strictObject({ type: z.literal('resume') }),
  z.strictObject({ type: z.literal('stop'), reason: z.string() }),
  z.strictObject({ type: z.literal('error'), code: z.string(), message: z.string(), fatal: z.boolean() }),
  z.strictObject({ type: z.literal('pong'), t: z.number() }),
]);
export type ControlMessage = z.infer<typeof ControlMessageSchema>;

export type TabMessageType = TabMessage['type'];
export type ControlMessageType = ControlMessage['type'];

/** For the `default:` branch of an exhaustive switch. */
export function assertNever(x: never, what = 'message'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`);
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses one text frame: JSON, then the schema; errors name the offending field. */
export function parseFrame<T>(schema: z.ZodType<T>, text: string): Parsed<T> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `malformed JSON: ${(e as Error).message}` };
  }
  const r = schema.safeParse(data);
  return r.success ? { ok: true, value: r.data } : { ok: false, error: describeZodError(r.error) };
}

export function describeZodError(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
