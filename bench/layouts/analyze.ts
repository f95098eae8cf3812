// Numbers of one layout from its runs (run.ts): tokens/s, step time and per-stage breakdown of
// the shared run (medians over the measured steps), and for pipelines the efficiencies:
//   measured_shared = Σ_stages compute / (P × step time) of the shared run, where compute is
//     the time each stage's ranks spent in forward/backward ops (mean over its TP/DP ranks);
//     on one shared device that time includes waiting for the other stages' GPU work;
//   useful_shared = the same with each stage's own compute (from the serial run) on top;
//   own_compute = a replay (src/parallel/timed-schedule.ts) of the stages' op lists with each
//     op's own time from the serial run, as if each stage had its own device; the schedule
//     only (gradient sync and optimizer excluded, as in the ideal m / (m + P − 1));
//   own_balanced = that replay with every stage at the mean forward/backward time: the cost of
//     the schedule and the transfers alone, without the stages' imbalance.
import type { CommOp, ScheduleOp } from '../../src/parallel/ops';
import { idealPipelineEfficiency, replaySchedules } from '../../src/parallel/timed-schedule';
import type { Layout } from './catalog';
import type { CommCall } from './timed-comm';
import type { AbsSpan, LayoutRun, RankRun } from './run';

export interface StageNumbers {
  stage: number;
  ranks: number[];
  compute_ms: number;
  p2p_ms: number;
  allreduce_ms: number;
  optimizer_ms: number;
  total_ms: number;
}

export interface PipelineNumbers {
  ideal: number;
  efficiency_measured_shared: number;
  ratio_measured_shared: number;
  efficiency_useful_shared: number;
  ratio_useful_shared: number;
  efficiency_own_compute: number;
  ratio_own_compute: number;
  /** the replay with equal stages (mean forward/backward), measured sends and transfers */
  efficiency_own_balanced: number;
  ratio_own_balanced: number;
  own_compute: {
    replay_ms: number;
    /** per stage: Σ own forward/backward ms per step, median forward / backward / send ms */
    compute_ms: number[];
    forward_ms: number[];
    backward_ms: number[];
    send_ms: number[];
    /** from a send op's end until its tensor is at the peer (background readback + loopback) */
    transfer_ms: number[];
    /** mean / max of the stages' compute: the pipeline runs at its slowest stage's pace */
    stage_balance: number;
    serial_step_ms: number;
  };
}

export interface LayoutNumbers extends Layout {
  params_per_rank: number[];
  tokens_per_step: number;
  measured_steps: number;
  tokens_per_s: number;
  step_ms: number;
  step_ms_all: number[];
  stages: StageNumbers[];
  pipeline?: PipelineNumbers;
}

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** The span minus the time this rank spent blocked in comm calls during it (its own work);
 *  sends run in the background and do not block. */
function ownMs(span: AbsSpan, calls: readonly CommCall[]): number {
  let inside = 0;
  for (const c of calls) {
    if (c.what === 'send' || c.end <= span.start) continue;
    if (c.start >= span.end) break;
    inside += Math.min(c.end, span.end) - Math.max(c.start, span.start);
  }
  return Math.max(0, span.end - span.start - inside);
}

/** A rank's pipeline sends per step (tags pp:<what>:<step>:<microbatch>[.<consumer chunk>], steps
 *  in order of appearance), keyed "<what>:<microbatch>[.<consumer chunk>]": where to find when each
 *  background send arrived. */
function sendsByStep(calls: readonly CommCall[]): Map<string, CommCall>[] {
  const steps = new Map<string, Map<string, CommCall>>();
  for (const c of calls) {
    const m = c.what === 'send' ? /^pp:(\w+):(\d+):(\d+(?:\.\d+)?)$/.exec(c.tag ?? '') : null;
    if (!m) continue;
    if (!steps.has(m[2])) steps.set(m[2], new Map());
    steps.get(m[2])!.set(`${m[1]}:${m[3]}`, c);
  }
  return [...steps.values()];
}

/** The key sendsByStep files a stage's send op under (the executor's tag, src/train/distributed). */
function sendKey(op: CommOp, stage: number, P: number, v: number): string {
  if (v === 1) return `${op.what}:${op.microbatch}`;
  const consumer = (op.chunk ?? 0) * P + stage + (op.what === 'activation' ? 1 : -1);
  return `${op.what}:${op.microbatch}.${consumer}`;
}

const stageRanks = (run: LayoutRun) =>
  Array.from({ length: run.layout.pp }, (_, s) => run.ranks.filter((r) => r.coord.pp === s));
const measured = (r: RankRun, warmup: number) => r.steps.slice(warmup);

export function analyze(shared: LayoutRun, serial: LayoutRun | null, warmup: number): LayoutNumbers {
  const { layout } = shared;
  const nSteps = Math.min(...shared.ranks.map((r) => measured(r, warmup).length));
  if (!(nSteps > 0)) throw new Error(`${layout.name}: no measured steps (warmup ${warmup})`);
  const stepMs = Array.from({ length: nSteps }, (_, i) =>
    Math.max(...shared.ranks.map((r) => measured(r, warmup)[i].ms)),
  );
  const byStage = stageRanks(shared);
  const field = (ranks: RankRun[], f: (b: RankRun['steps'][number]['breakdown']) => number) =>
    median(Array.from({ length: nSteps }, (_, i) => mean(ranks.map((r) => f(measured(r, warmup)[i].breakdown)))));
  const stages = byStage.map(
    (ranks, stage): StageNumbers => ({
      stage,
      ranks: ranks.map((r) => r.coord.rank),
      compute_ms: round(field(ranks, (b) => b.computeMs)),
      p2p_ms: round(field(ranks, (b) => b.p2pMs)),
      allreduce_ms: round(field(ranks, (b) => b.allReduceMs)),
      optimizer_ms: round(field(ranks, (b) => b.optimizerMs)),
      total_ms: round(field(ranks, (b) => b.totalMs)),
    }),
  );
  const step = median(stepMs);
  const out: LayoutNumbers = {
    name: layout.name,
    tp: layout.tp,
    pp: layout.pp,
    dp: layout.dp,
    m: layout.m,
    world: layout.world,
    ...(layout.v ? { v: layout.v } : {}),
    params_per_rank: shared.params,
    tokens_per_step: shared.tokensPerStep,
    measured_steps: nSteps,
    tokens_per_s: round((shared.tokensPerStep / step) * 1000, 1),
    step_ms: round(step, 1),
    step_ms_all: stepMs.map((x) => round(x, 1)),
    stages,
  };
  if (layout.pp > 1 && serial) out.pipeline = pipelineNumbers(shared, serial, warmup, stepMs);
  return out;
}

function pipelineNumbers(
  shared: LayoutRun,
  serial: LayoutRun,
  warmup: number,
  sharedStepMs: number[],
): PipelineNumbers {
  const P = shared.layout.pp;
  const v = shared.layout.v ?? 1;
  const ideal = idealPipelineEfficiency(P, shared.layout.m, v);
  const nShared = sharedStepMs.length;
  const sharedStages = stageRanks(shared);
  const measuredShared = median(
    Array.from(
      { length: nShared },
      (_, i) =>
        sharedStages.reduce((n, ranks) => n + mean(ranks.map((r) => measured(r, warmup)[i].breakdown.computeMs)), 0) /
        (P * sharedStepMs[i]),
    ),
  );

  // Own time of every op of every stage in every measured serial step: max over the stage's TP
  // ranks (they run each op together), mean over its DP replicas. The replay gives each op the
  // median of its stage's ops of that kind (forward, backward, send, recv), and each send the
  // median time from the end of its op (the copy queued) until the tensor was delivered.
  const lists = serial.schedules;
  const nSerial = Math.min(...serial.ranks.map((r) => measured(r, warmup).length));
  if (!(nSerial > 0)) throw new Error(`${shared.layout.name}: no measured steps in the serial run`);
  const samples = lists.map(() => new Map<string, number[]>());
  const sends = new Map(serial.ranks.map((r) => [r, sendsByStep(r.calls)]));
  stageRanks(serial).forEach((ranks, s) => {
    const dps = [...new Set(ranks.map((r) => r.coord.dp))];
    const add = (kind: string, v: number) => samples[s].set(kind, [...(samples[s].get(kind) ?? []), v]);
    lists[s].forEach((op, i) => {
      for (let k = 0; k < nSerial; k++) {
        const per = (f: (r: RankRun, span: AbsSpan) => number) =>
          mean(
            dps.map((dp) =>
              Math.max(
                ...ranks
                  .filter((r) => r.coord.dp === dp)
                  .map((r) => {
                    const span = measured(r, warmup)[k].spans[i];
                    if (!span || span.kind !== op.kind)
                      throw new Error(
                        `${shared.layout.name}: rank ${r.coord.rank} span ${i} is ${span?.kind}, the schedule says ${op.kind}`,
                      );
                    return f(r, span);
                  }),
              ),
            ),
          );
        add(
          op.kind,
          per((r, span) => ownMs(span, r.calls)),
        );
        if (op.kind === 'send') {
          add(
            'transfer',
            per((r, span) => {
              const call = sends.get(r)![warmup + k]?.get(sendKey(op, s, P, v));
              if (!call)
                throw new Error(
                  `${shared.layout.name}: rank ${r.coord.rank} has no send call for ${op.what} ${op.microbatch} in step ${warmup + k}`,
                );
              return Math.max(0, call.end - span.end);
            }),
          );
        }
      }
    });
  });
  const kindMs = (s: number, kind: string) => median(samples[s].get(kind) ?? []);
  const cost = (s: number, op: ScheduleOp) => kindMs(s, op.kind);
  const transfer = (st: number) => kindMs(st, 'transfer');
  const replay = replaySchedules(lists, { compute: cost, send: cost, recv: cost, transfer });
  // The same with every stage's forward and backward at the mean over stages: what the schedule
  // and the transfers cost without the imbalance between stages.
  const even = (kind: string) => mean(lists.map((_, st) => kindMs(st, kind)));
  const balanced = replaySchedules(lists, { compute: (_st, op) => even(op.kind), send: cost, recv: cost, transfer });
  const ownCompute = replay.stages.map((st) => st.computeMs);
  const usefulShared = median(sharedStepMs.map((ms) => ownCompute.reduce((a, b) => a + b, 0) / (P * ms)));
  const serialStep = median(
    Array.from({ length: nSerial }, (_, k) => Math.max(...serial.ranks.map((r) => measured(r, warmup)[k].ms))),
  );
  return {
    ideal: round(ideal, 4),
    efficiency_measured_shared: round(measuredShared, 4),
    ratio_measured_shared: round(measuredShared / ideal, 4),
    efficiency_useful_shared: round(usefulShared, 4),
    ratio_useful_shared: round(usefulShared / ideal, 4),
    efficiency_own_compute: round(replay.efficiency, 4),
    ratio_own_compute: round(replay.efficiency / ideal, 4),
    efficiency_own_balanced: round(balanced.efficiency, 4),
    ratio_own_balanced: round(balanced.efficiency / ideal, 4),
    own_compute: {
      replay_ms: round(replay.makespanMs, 1),
      compute_ms: ownCompute.map((x) => round(x, 1)),
      forward_ms: lists.map((_, s) => round(kindMs(s, 'forward'))),
      backward_ms: lists.map((_, s) => round(kindMs(s, 'backward'))),
      send_ms: lists.map((_, s) => round(kindMs(s, 'send'))),
      transfer_ms: lists.map((_, s) => round(kindMs(s, 'transfer'))),
      stage_balance: round(mean(ownCompute) / Math.max(...ownCompute), 4),
      serial_step_ms: round(serialStep, 1),
    },
  };
}
