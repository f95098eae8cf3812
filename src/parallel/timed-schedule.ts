// Timed replay of every stage's pipeline op list (src/parallel/schedule.ts) as if each stage
// were its own device: a discrete-event simulation, pure (no I/O, no clock).
//   - ops on one stage run one after another, in list order;
//   - a compute or a send occupies its stage for its cost (a send's cost is the sender's own
//     work, e.g. reading the tensor back from the GPU) and never waits for the receiver;
//   - the k-th recv on stage r from stage s takes the k-th send from s to r (FIFO channel); it
//     completes at max(the moment the stage reaches it, that send's end + transfer time) + its
//     own cost (e.g. the upload).
// Efficiency = Σ compute time over stages / (P × makespan): the share of P devices' time spent
// on forward/backward, which for 1F1B with equal stages and free transfers is m/(m + P − 1).
import { PlanError } from './errors';
import { isCompute, opLabel, type CommOp, type ComputeOp, type ScheduleOp } from './ops';

export interface ReplayCosts {
  /** ms of a forward or backward on `stage` */
  compute(stage: number, op: ComputeOp): number;
  /** ms a send keeps its stage busy (default 0) */
  send?(stage: number, op: CommOp): number;
  /** ms from a send's end until its tensor is at the receiver (default 0) */
  transfer?(stage: number, op: CommOp): number;
  /** ms a recv keeps its stage busy once the tensor has arrived (default 0) */
  recv?(stage: number, op: CommOp): number;
}

export interface TimedOp {
  op: ScheduleOp;
  start: number;
  end: number;
}

export interface StageReplay {
  ops: TimedOp[];
  /** time in forward/backward */
  computeMs: number;
  /** time busy with sends and recvs (their own cost, not the waiting) */
  commMs: number;
  /** time a recv waited for its tensor */
  waitMs: number;
  /** when the stage's last op ends */
  endMs: number;
}

export interface Replay {
  stages: StageReplay[];
  makespanMs: number;
  /** Σ computeMs / (P × makespanMs); 1 for an empty schedule */
  efficiency: number;
}

/** Costs from one forward/backward time per stage (or one for all) and one transfer time. */
export function stageCosts(c: {
  forward: number | readonly number[];
  backward: number | readonly number[];
  send?: number | readonly number[];
  transfer?: number;
}): ReplayCosts {
  const at = (v: number | readonly number[] | undefined, s: number) =>
    v === undefined ? 0 : typeof v === 'number' ? v : v[s];
  return {
    compute: (s, op) => at(op.kind === 'forward' ? c.forward : c.backward, s),
    send: (s) => at(c.send, s),
    transfer: () => c.transfer ?? 0,
  };
}

export function replaySchedules(lists: readonly (readonly ScheduleOp[])[], costs: ReplayCosts): Replay {
  const P = lists.length;
  const sendCost = costs.send ?? (() => 0),
    transfer = costs.transfer ?? (() => 0),
    recvCost = costs.recv ?? (() => 0);
  // arrivals[from][to]: arrival times of the sends from → to so far, in list order
  const arrivals = lists.map(() => lists.map(() => [] as { op: CommOp; at: number }[]));
  const taken = lists.map(() => lists.map(() => 0));
  const stages: StageReplay[] = lists.map(() => ({ ops: [], computeMs: 0, commMs: 0, waitMs: 0, endMs: 0 }));
  const pc = lists.map(() => 0);
  const check = (v: number, what: string, s: number, op: ScheduleOp) => {
    if (!(v >= 0) || !Number.isFinite(v))
      throw new PlanError(`stage ${s}, ${opLabel(op)}: ${what} must be a finite number ≥ 0, got ${v}`);
    return v;
  };
  let left = lists.reduce((n, l) => n + l.length, 0);
  while (left > 0) {
    let progressed = false;
    for (let s = 0; s < P; s++) {
      const st = stages[s];
      while (pc[s] < lists[s].length) {
        const op = lists[s][pc[s]];
        const start = st.endMs;
        let end: number;
        if (isCompute(op)) {
          const d = check(costs.compute(s, op), 'compute time', s, op);
          end = start + d;
          st.computeMs += d;
        } else if (op.kind === 'send') {
          if (op.peerStage < 0 || op.peerStage >= P || op.peerStage === s)
            throw new PlanError(`stage ${s}, ${opLabel(op)}: no such peer stage`);
          const d = check(sendCost(s, op), 'send time', s, op);
          end = start + d;
          st.commMs += d;
          arrivals[s][op.peerStage].push({ op, at: end + check(transfer(s, op), 'transfer time', s, op) });
        } else {
          const from = op.peerStage;
          if (from < 0 || from >= P || from === s)
            throw new PlanError(`stage ${s}, ${opLabel(op)}: no such peer stage`);
          const msg = arrivals[from][s][taken[from][s]];
          if (!msg) break; // its send has not run yet: another stage must progress first
          if (msg.op.what !== op.what || msg.op.microbatch !== op.microbatch) {
            throw new PlanError(
              `stage ${s}, ${opLabel(op)}: stage ${from} sent ${msg.op.what} ${msg.op.microbatch} first`,
            );
          }
          taken[from][s]++;
          const d = check(recvCost(s, op), 'recv time', s, op);
          const ready = Math.max(start, msg.at);
          st.waitMs += ready - start;
          end = ready + d;
          st.commMs += d;
        }
        st.ops.push({ op, start, end });
        st.endMs = end;
        pc[s]++;
        left--;
        progressed = true;
      }
    }
    if (!progressed) {
      const stuck = pc
        .map((p, s) => (p < lists[s].length ? `stage ${s} at ${opLabel(lists[s][p])}` : null))
        .filter(Boolean);
      throw new PlanError(`the op lists deadlock: ${stuck.join('; ')} wait on sends that never run`);
    }
  }
  const unread = arrivals
    .flatMap((row, from) => row.map((q, to) => (q.length > taken[from][to] ? `${from}→${to}` : null)))
    .filter(Boolean);
  if (unread.length > 0) throw new PlanError(`sends never received on ${unread.join(', ')}`);
  const makespanMs = Math.max(0, ...stages.map((st) => st.endMs));
  const compute = stages.reduce((n, st) => n + st.computeMs, 0);
  return { stages, makespanMs, efficiency: makespanMs > 0 ? compute / (P * makespanMs) : 1 };
}

/** The ideal 1F1B efficiency with equal stages and free transfers: m / (m + P − 1); with v model
 *  chunks per stage (interleaved) v·m / (v·m + P − 1). */
export function idealPipelineEfficiency(pp: number, microbatches: number, virtualChunks = 1): number {
  return (virtualChunks * microbatches) / (virtualChunks * microbatches + pp - 1);
}
