// Collectives over a Group: ring all-reduce (= reduce-scatter + all-gather over
// `ringPlan`), reduce-scatter, all-gather, pipelined chain broadcast, barrier.
// Data are f32 tensors; reduction runs where `reduce` says (CPU by default). With `wire` (mixed
// precision) every message carries the values as 16-bit (compress/half-wire.ts: 2 bytes a value,
// round to nearest even) while the partial sums are kept and added in f32 on each rank.

import type { HalfFormat } from '../train/precision';
import { decodeHalf, encodeHalf } from './compress/half-wire';
import type { Group } from './group';
import { ringPlan, type RingPlan } from './ring-plan';
import { DEFAULT_TIMEOUT_MS } from './transport';

export type ReduceOp = 'sum' | 'avg';

/** acc[i] = incoming[i] + acc[i] — incoming is the partial sum travelling round the ring */
export type Reducer = (acc: Float32Array, incoming: Float32Array) => void | Promise<void>;

export interface CollectiveOptions {
  /** fail when a transfer makes no progress for this long (ms) */
  timeoutMs?: number;
  /** overrides the group's automatic tag (every member must pass the same one) */
  tag?: string;
  reduce?: Reducer;
  /** broadcast pipelines segments of this many bytes (default 1 MiB) */
  segmentBytes?: number;
  /** all-reduce and reduce-scatter: `data` is elements [offset, offset + data.length) of a vector
   *  of `total` elements, and the ring cuts that whole vector into its chunks. Each element is
   *  then summed in the same order as by one collective over the whole vector, so a vector
   *  reduced in such slices (gradient buckets) ends up bit for bit the same. */
  slice?: SliceOf;
  /** the ring's messages carry fp16 / bf16 instead of f32 (half the bytes). All-reduce: each rank
   *  rounds its reduced chunk to the format before the all-gather, so every member ends with the
   *  same values. Reduce-scatter: the sums stay f32, only what travels is rounded. All-gather:
   *  `piece` (this rank's own chunk) stays as given, the others arrive rounded. */
  wire?: HalfFormat;
}

export interface SliceOf {
  offset: number;
  total: number;
}

export const cpuReduce: Reducer = (acc, incoming) => {
  for (let i = 0; i < acc.length; i++) acc[i] = incoming[i] + acc[i];
};

interface Ctx {
  group: Group;
  tag: string;
  op: string;
  timeoutMs: number;
  wire?: HalfFormat;
}

function context(group: Group, name: string, opts: CollectiveOptions): Ctx {
  const tag = opts.tag ?? group.nextTag(name);
  const ctx: Ctx = { group, tag, op: `${name} '${tag}'`, timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS };
  if (opts.wire) ctx.wire = opts.wire;
  return ctx;
}

/** In place: x rounded to the 16-bit format (what a member decodes from x's message). */
export function roundToWire(format: HalfFormat, x: Float32Array): void {
  x.set(decodeHalf(format, encodeHalf(format, x), x.length));
}

function asF32(bytes: Uint8Array): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
}

/** One ring step: send `out` to the next position, receive `inLength` floats from the previous. */
async function ringStep(
  ctx: Ctx,
  plan: RingPlan,
  step: string,
  out: Float32Array,
  inLength: number,
): Promise<Float32Array | undefined> {
  const t = ctx.group.transport;
  const tag = `${ctx.tag}/${step}`;
  const { wire } = ctx;
  const sending =
    out.length > 0
      ? t.send(ctx.group.rankAt(plan.next), tag, wire ? encodeHalf(wire, out) : out, {
          op: ctx.op,
          timeoutMs: ctx.timeoutMs,
        })
      : undefined;
  const bytes = inLength * (wire ? 2 : 4);
  const receiving =
    inLength > 0
      ? t.recv(ctx.group.rankAt(plan.prev), tag, { op: ctx.op, timeoutMs: ctx.timeoutMs, bytes })
      : undefined;
  const [, got] = await Promise.all([sending, receiving]);
  if (!got) return undefined;
  return wire ? decodeHalf(wire, got, inLength) : asF32(got);
}

async function reduceScatterPhase(
  ctx: Ctx,
  plan: RingPlan,
  data: Float32Array,
  op: ReduceOp,
  reduce: Reducer,
): Promise<void> {
  const view = (c: number) => data.subarray(plan.chunks[c].start, plan.chunks[c].end);
  for (let s = 0; s < plan.reduceScatter.length; s++) {
    const { send, recv } = plan.reduceScatter[s];
    const incoming = await ringStep(ctx, plan, `rs${s}`, view(send), view(recv).length);
    if (incoming) await reduce(view(recv), incoming);
  }
  if (op === 'avg') {
    const own = view(plan.rank);
    for (let i = 0; i < own.length; i++) own[i] = own[i] / plan.size;
  }
}

async function allGatherPhase(ctx: Ctx, plan: RingPlan, data: Float32Array): Promise<void> {
  const view = (c: number) => data.subarray(plan.chunks[c].start, plan.chunks[c].end);
  for (let s = 0; s < plan.allGather.length; s++) {
    const { send, recv } = plan.allGather[s];
    const incoming = await ringStep(ctx, plan, `ag${s}`, view(send), view(recv).length);
    if (incoming) view(recv).set(incoming);
  }
}

/** The ring plan for `length` elements, or for a slice of a longer vector (chunks clipped to it,
 *  relative to its start; chunks outside it are empty and their ring steps move nothing). */
function slicePlan(group: Group, length: number, slice: SliceOf | undefined, op: string): RingPlan {
  if (!slice) return ringPlan(group.size, group.position, length);
  const { offset, total } = slice;
  if (!Number.isInteger(offset) || offset < 0 || offset + length > total)
    throw new Error(`${op}: slice [${offset}, ${offset + length}) lies outside a vector of ${total}`);
  const whole = ringPlan(group.size, group.position, total);
  const clip = (x: number) => Math.min(length, Math.max(0, x - offset));
  return { ...whole, length, chunks: whole.chunks.map((c) => ({ start: clip(c.start), end: clip(c.end) })) };
}

/** In place: every member ends with the elementwise sum (or mean) of all members' `data`. */
export function allReduce(
  group: Group,
  data: Float32Array,
  op: ReduceOp = 'sum',
  opts: CollectiveOptions = {},
): Promise<Float32Array> {
  const ctx = context(group, 'allReduce', opts);
  return group.guard(ctx.op, async () => {
    const plan = slicePlan(group, data.length, opts.slice, ctx.op);
    await reduceScatterPhase(ctx, plan, data, op, opts.reduce ?? cpuReduce);
    if (opts.wire) roundToWire(opts.wire, data.subarray(plan.chunks[plan.rank].start, plan.chunks[plan.rank].end));
    await allGatherPhase(ctx, plan, data);
    return data;
  });
}

/** Reduces `data` (used as the work buffer) and returns this member's chunk of the result,
 *  chunk `position` of `chunkBounds(size, data.length)`, as a view into `data` (with
 *  `opts.slice`: that chunk of the whole vector, clipped to the slice; maybe empty). */
export function reduceScatter(
  group: Group,
  data: Float32Array,
  op: ReduceOp = 'sum',
  opts: CollectiveOptions = {},
): Promise<Float32Array> {
  const ctx = context(group, 'reduceScatter', opts);
  return group.guard(ctx.op, async () => {
    const plan = slicePlan(group, data.length, opts.slice, ctx.op);
    await reduceScatterPhase(ctx, plan, data, op, opts.reduce ?? cpuReduce);
    const own = plan.chunks[plan.rank];
    return data.subarray(own.start, own.end);
  });
}

/** Concatenates every member's `piece` (all of one length) in group order. With `opts.slice`,
 *  in place instead: `piece` is elements [offset, offset + piece.length) of a vector of `total`
 *  elements, each member has filled its ring chunk of that vector (clipped to the slice; maybe
 *  empty) and every member ends with all of it (ZeRO-3 gathering a layer's parameter shards). */
export function allGather(group: Group, piece: Float32Array, opts: CollectiveOptions = {}): Promise<Float32Array> {
  const ctx = context(group, 'allGather', opts);
  if (opts.slice) {
    const slice = opts.slice;
    return group.guard(ctx.op, async () => {
      await allGatherPhase(ctx, slicePlan(group, piece.length, slice, ctx.op), piece);
      return piece;
    });
  }
  return group.guard(ctx.op, async () => {
    const out = new Float32Array(piece.length * group.size);
    const plan = ringPlan(group.size, group.position, out.length);
    out.set(piece, plan.chunks[plan.rank].start);
    await allGatherPhase(ctx, plan, out);
    return out;
  });
}

/** In place: every member's `data` becomes the root's (`root` is a global rank in the group).
 *  A chain root → root+1 → … pipelined in segments, so a long tensor streams at link speed. */
export function broadcast(
  group: Group,
  data: Float32Array,
  root: number,
  opts: CollectiveOptions = {},
): Promise<Float32Array> {
  const ctx = context(group, 'broadcast', opts);
  const rootPos = group.ranks.indexOf(root);
  if (rootPos < 0) return Promise.reject(new Error(`${ctx.op}: root rank ${root} is not in group ${group.name}`));
  return group.guard(ctx.op, async () => {
    const t = group.transport;
    const n = group.size;
    const rel = (group.position - rootPos + n) % n;
    const segment = Math.max(1, Math.floor((opts.segmentBytes ?? 1 << 20) / 4));
    const io = { op: ctx.op, timeoutMs: ctx.timeoutMs };
    const next = rel + 1 < n ? group.rankAt(group.position + 1) : undefined;
    const sends: Promise<void>[] = [];
    for (let start = 0; start < data.length; start += segment) {
      const view = data.subarray(start, Math.min(data.length, start + segment));
      if (rel > 0) {
        const got = await t.recv(group.rankAt(group.position - 1), ctx.tag, { ...io, bytes: view.byteLength });
        view.set(asF32(got));
      }
      if (next !== undefined) {
        const sending = t.send(next, ctx.tag, view, io);
        sending.catch(() => {}); // awaited below; this only keeps an early failure from going unhandled
        sends.push(sending);
      }
    }
    await Promise.all(sends);
    return data;
  });
}

/** Returns once every member has entered the barrier (dissemination barrier, ⌈log2 n⌉ rounds). */
export function barrier(group: Group, opts: CollectiveOptions = {}): Promise<void> {
  const ctx = context(group, 'barrier', opts);
  return group.guard(ctx.op, async () => {
    const t = group.transport;
    const io = { op: ctx.op, timeoutMs: ctx.timeoutMs };
    for (let d = 1, round = 0; d < group.size; d *= 2, round++) {
      const tag = `${ctx.tag}/r${round}`;
      await Promise.all([
        t.send(group.rankAt(group.position + d), tag, new Uint8Array(0), io),
        t.recv(group.rankAt(group.position - d), tag, { ...io, bytes: 0 }),
      ]);
    }
  });
}
