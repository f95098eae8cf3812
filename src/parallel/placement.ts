// Where the sends and receives go. Given every stage's compute order, time the schedule on an
// ideal machine (a compute starts when its stage is free and its input has been produced),
// then give each transfer one global instant: the moment its producer finishes. Each stage's
// list is its computes and transfers sorted by (instant, transfers-before-computes, sender).
// Because one global order contains every stage's list as a subsequence, the lists cannot
// deadlock even when a send blocks until the receiver takes it (rendezvous): the earliest
// pending transfer is always the next op of both of its stages.

import { PlanError } from './errors';
import { chunkAt, globalChunk, type ChunkLayout, type CommOp, type ComputeOp, type ScheduleOp } from './ops';

export interface Durations {
  forward: number;
  backward: number;
}

export interface TimedCompute {
  op: ComputeOp;
  start: number;
  end: number;
}

/** Backward costs about twice the forward. */
export const DEFAULT_DURATIONS: Durations = { forward: 1, backward: 2 };

/** The compute whose output this op consumes, when it lives on another chunk. */
export function producerOf(l: ChunkLayout, stage: number, op: ComputeOp): { stage: number; op: ComputeOp } | null {
  const g = globalChunk(l, stage, op.chunk ?? 0);
  const last = l.pp * l.virtualChunks - 1;
  const from = op.kind === 'forward' ? g - 1 : g + 1;
  if (from < 0 || from > last) return null;
  const at = chunkAt(l, from);
  return { stage: at.stage, op: withChunk(l, { kind: op.kind, microbatch: op.microbatch }, at.chunk) };
}

export function timeSchedule(
  l: ChunkLayout,
  orders: ComputeOp[][],
  d: Durations = DEFAULT_DURATIONS,
): TimedCompute[][] {
  const key = (stage: number, op: ComputeOp) => `${op.kind}:${op.microbatch}:${globalChunk(l, stage, op.chunk ?? 0)}`;
  const ends = new Map<string, number>();
  const timed: TimedCompute[][] = orders.map(() => []);
  const next = orders.map(() => 0);
  const clock = orders.map(() => 0);
  let remaining = orders.reduce((n, o) => n + o.length, 0);
  while (remaining > 0) {
    let progressed = false;
    for (let s = 0; s < orders.length; s++) {
      while (next[s] < orders[s].length) {
        const op = orders[s][next[s]];
        const from = producerOf(l, s, op);
        const ready = from === null ? 0 : ends.get(key(from.stage, from.op));
        if (ready === undefined) break;
        if (op.kind === 'backward' && !ends.has(key(s, { ...op, kind: 'forward' }))) {
          throw new PlanError(`stage ${s}: backward of microbatch ${op.microbatch} comes before its forward`);
        }
        const start = Math.max(clock[s], ready);
        const end = start + (op.kind === 'forward' ? d.forward : d.backward);
        timed[s].push({ op, start, end });
        ends.set(key(s, op), end);
        clock[s] = end;
        next[s]++;
        remaining--;
        progressed = true;
      }
    }
    if (!progressed) {
      const stuck = orders
        .map((o, s) => (next[s] < o.length ? `stage ${s} at ${o[next[s]].kind} ${o[next[s]].microbatch}` : null))
        .filter(Boolean);
      throw new PlanError(`the compute orders cannot run: ${stuck.join(', ')} wait on inputs never produced`);
    }
  }
  return timed;
}

export function placeTransfers(l: ChunkLayout, orders: ComputeOp[][]): ScheduleOp[][] {
  const timed = timeSchedule(l, orders);
  type Event = { at: number; cls: 0 | 1; sender: number; op: ScheduleOp };
  const events: Event[][] = orders.map(() => []);
  const endOf = new Map<string, number>();
  timed.forEach((list, s) =>
    list.forEach((t) => endOf.set(`${s}:${t.op.kind}:${t.op.microbatch}:${t.op.chunk ?? 0}`, t.end)),
  );

  timed.forEach((list, s) => {
    for (const { op, start } of list) {
      events[s].push({ at: start, cls: 1, sender: s, op });
      const from = producerOf(l, s, op);
      if (from === null || from.stage === s) continue; // first/last chunk, or the next chunk on the same stage
      const at = endOf.get(`${from.stage}:${from.op.kind}:${from.op.microbatch}:${from.op.chunk ?? 0}`)!;
      const what = op.kind === 'forward' ? 'activation' : 'grad';
      const recv: CommOp = withChunk(
        l,
        { kind: 'recv', what, peerStage: from.stage, microbatch: op.microbatch },
        op.chunk,
      );
      const send: CommOp = withChunk(l, { kind: 'send', what, peerStage: s, microbatch: op.microbatch }, from.op.chunk);
      events[s].push({ at, cls: 0, sender: from.stage, op: recv });
      events[from.stage].push({ at, cls: 0, sender: from.stage, op: send });
    }
  });
  const order = (a: Event, b: Event) => a.at - b.at || a.cls - b.cls || a.sender - b.sender;
  return events.map((list) => list.sort(order).map((e) => e.op));
}

function withChunk<T extends object>(l: ChunkLayout, op: T, chunk: number | undefined): T & { chunk?: number } {
  return l.virtualChunks > 1 ? { ...op, chunk: chunk ?? 0 } : op;
}
