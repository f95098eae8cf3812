import { describe, expect, it } from 'vitest';
import { isCompute, opLabel, type ComputeOp, type ScheduleOp } from './ops';
import { DEFAULT_DURATIONS, timeSchedule } from './placement';
import {
  bubbleFraction,
  interleavedAllStages,
  interleavedComputeOrder,
  interleavedOneFOneB,
  oneFOneB,
  oneFOneBAllStages,
  oneFOneBComputeOrder,
} from './schedule';
import { simulateSchedules } from './simulate';

const computes = (ops: ScheduleOp[]) => ops.filter(isCompute);
const labels = (ops: ScheduleOp[]) => ops.map(opLabel);

/** Checks the 1F1B invariants on one stage; returns the peak in-flight count. */
function checkInvariants(ops: ComputeOp[], microbatches: number, chunks: number): number {
  const key = (op: ComputeOp) => `${op.microbatch}.${op.chunk ?? 0}`;
  const forwardAt = new Map<string, number>();
  const backwardAt = new Map<string, number>();
  let live = 0,
    peak = 0;
  ops.forEach((op, i) => {
    const seen = op.kind === 'forward' ? forwardAt : backwardAt;
    expect(seen.has(key(op)), `${op.kind} ${key(op)} twice`).toBe(false);
    seen.set(key(op), i);
    live += op.kind === 'forward' ? 1 : -1;
    expect(live).toBeGreaterThanOrEqual(0);
    peak = Math.max(peak, live);
  });
  expect(live).toBe(0);
  expect(forwardAt.size).toBe(microbatches * chunks);
  for (const [k, f] of forwardAt) expect(backwardAt.get(k)!).toBeGreaterThan(f);
  return peak;
}

describe('non-interleaved 1F1B', () => {
  it('follows the warm-up / steady / cool-down pattern (P 4, m 8)', () => {
    const order = (s: number) => labels(oneFOneBComputeOrder(4, s, 8)).join(' ');
    expect(order(0)).toBe('F0 F1 F2 F3 B0 F4 B1 F5 B2 F6 B3 F7 B4 B5 B6 B7');
    expect(order(1)).toBe('F0 F1 F2 B0 F3 B1 F4 B2 F5 B3 F6 B4 F7 B5 B6 B7');
    expect(order(2)).toBe('F0 F1 B0 F2 B1 F3 B2 F4 B3 F5 B4 F6 B5 F7 B6 B7');
    expect(order(3)).toBe('F0 B0 F1 B1 F2 B2 F3 B3 F4 B4 F5 B5 F6 B6 F7 B7');
  });

  it('places every send and receive exactly (P 2, m 2)', () => {
    expect(labels(oneFOneB(2, 0, 2))).toEqual([
      'F0',
      'send activation 0 -> stage 1',
      'F1',
      'send activation 1 -> stage 1',
      'recv grad 0 <- stage 1',
      'B0',
      'recv grad 1 <- stage 1',
      'B1',
    ]);
    expect(labels(oneFOneB(2, 1, 2))).toEqual([
      'recv activation 0 <- stage 0',
      'F0',
      'recv activation 1 <- stage 0',
      'B0',
      'send grad 0 -> stage 0',
      'F1',
      'B1',
      'send grad 1 -> stage 0',
    ]);
  });

  it('has no transfers without a pipeline', () => {
    expect(labels(oneFOneB(1, 0, 3))).toEqual(['F0', 'B0', 'F1', 'B1', 'F2', 'B2']);
  });

  it('keeps the invariants for P 1..8, m 1..24: F before B, in-flight ≥ 0, ends at 0, ≤ P − s, warm-up min(P − s − 1, m)', () => {
    for (let P = 1; P <= 8; P++) {
      for (let m = 1; m <= 24; m++) {
        for (let s = 0; s < P; s++) {
          const ops = computes(oneFOneB(P, s, m));
          const peak = checkInvariants(ops, m, 1);
          expect(peak).toBeLessThanOrEqual(P - s);
          expect(ops.findIndex((op) => op.kind === 'backward')).toBe(Math.min(P - s - 1, m) + (m > P - s - 1 ? 1 : 0));
        }
      }
    }
  });

  it('sends each activation and gradient once, to the neighbouring stage, after computing it', () => {
    for (const [P, m] of [
      [4, 8],
      [3, 2],
      [5, 5],
    ]) {
      oneFOneBAllStages(P, m).forEach((ops, s) => {
        const sends = ops.filter((op) => op.kind === 'send');
        const recvs = ops.filter((op) => op.kind === 'recv');
        expect(sends).toHaveLength((s < P - 1 ? m : 0) + (s > 0 ? m : 0));
        expect(recvs).toHaveLength(sends.length);
        for (const op of [...sends, ...recvs]) {
          if (op.kind !== 'send' && op.kind !== 'recv') continue;
          expect(op.peerStage).toBe((op.what === 'activation') === (op.kind === 'send') ? s + 1 : s - 1);
        }
      });
    }
  });

  it('runs all stages together without deadlock, with rendezvous and with buffered channels (P 1..8, m 1..24)', () => {
    for (let P = 1; P <= 8; P++) {
      for (let m = 1; m <= 24; m++) {
        const lists = oneFOneBAllStages(P, m);
        for (const capacity of [0, 1, 2, Infinity]) {
          expect(
            simulateSchedules({ pp: P, virtualChunks: 1 }, lists, capacity),
            `P ${P} m ${m} capacity ${capacity}`,
          ).toEqual({ ok: true, steps: lists.flat().length });
        }
      }
    }
  });

  it('takes (m + P − 1)·(F + B) on an ideal machine, so the bubble is (P − 1)/(m + P − 1)', () => {
    for (const [P, m] of [
      [2, 2],
      [4, 8],
      [4, 32],
      [8, 8],
      [3, 7],
    ]) {
      const timed = timeSchedule(
        { pp: P, virtualChunks: 1 },
        Array.from({ length: P }, (_, s) => oneFOneBComputeOrder(P, s, m)),
      );
      const span = Math.max(...timed.map((t) => t[t.length - 1].end));
      const { forward: f, backward: b } = DEFAULT_DURATIONS;
      expect(span).toBe((m + P - 1) * (f + b));
      expect(1 - (m * (f + b)) / span).toBeCloseTo(bubbleFraction(P, m), 12);
    }
  });
});

describe('interleaved 1F1B', () => {
  it('runs each microbatch through chunks in groups of P, with Megatron warm-up (P 2, m 4, v 2)', () => {
    expect(labels(interleavedComputeOrder(2, 0, 4, 2)).join(' ')).toBe(
      'F0.0 F1.0 F0.1 F1.1 F2.0 B0.1 F3.0 B1.1 F2.1 B0.0 F3.1 B1.0 B2.1 B3.1 B2.0 B3.0',
    );
    expect(labels(interleavedComputeOrder(2, 1, 4, 2)).join(' ')).toBe(
      'F0.0 F1.0 F0.1 B0.1 F1.1 B1.1 F2.0 B0.0 F3.0 B1.0 F2.1 B2.1 F3.1 B3.1 B2.0 B3.0',
    );
  });

  it('keeps the invariants and never deadlocks (P 2..6, v 2..4, m = P·1..4)', () => {
    for (let P = 2; P <= 6; P++) {
      for (let v = 2; v <= 4; v++) {
        for (let k = 1; k <= 4; k++) {
          const m = P * k;
          const lists = interleavedAllStages(P, m, v);
          lists.forEach((ops, s) => {
            const peak = checkInvariants(computes(ops), m, v);
            expect(peak).toBeLessThanOrEqual(Math.min(2 * (P - s - 1) + (v - 1) * P + 1, m * v));
            expect(ops).toEqual(interleavedOneFOneB(P, s, m, v));
          });
          for (const capacity of [0, 1, Infinity]) {
            expect(
              simulateSchedules({ pp: P, virtualChunks: v }, lists, capacity),
              `P ${P} v ${v} m ${m} capacity ${capacity}`,
            ).toEqual({ ok: true, steps: lists.flat().length });
          }
        }
      }
    }
  });

  it('sends from the last stage to the first between chunks (the pipeline is a ring)', () => {
    const last = interleavedOneFOneB(3, 2, 3, 2);
    expect(last).toContainEqual({ kind: 'send', what: 'activation', peerStage: 0, microbatch: 0, chunk: 0 });
    const first = interleavedOneFOneB(3, 0, 3, 2);
    expect(first).toContainEqual({ kind: 'recv', what: 'activation', peerStage: 2, microbatch: 0, chunk: 1 });
  });

  it('has a smaller bubble than 1F1B', () => {
    expect(bubbleFraction(4, 8, 2)).toBeLessThan(bubbleFraction(4, 8));
  });

  it('rejects microbatch counts that are not a multiple of the stages, naming them', () => {
    expect(() => interleavedOneFOneB(4, 0, 6, 2)).toThrow(
      'interleaved 1F1B needs the number of microbatches (gradient_accumulation_steps 6) to be a multiple of pipe_parallel_size 4',
    );
  });
});

describe('the simulator', () => {
  // Sends right after each compute and receives right before: the textbook order, which
  // deadlocks when sends block until received (stage 0 sends activation 1 while stage 1 sends grad 0).
  const naive = (P: number, m: number): ScheduleOp[][] =>
    Array.from({ length: P }, (_, s) =>
      oneFOneBComputeOrder(P, s, m).flatMap((op): ScheduleOp[] => {
        const fwd = op.kind === 'forward';
        const from = fwd ? s - 1 : s + 1,
          to = fwd ? s + 1 : s - 1;
        const what = fwd ? 'activation' : 'grad';
        return [
          ...(from >= 0 && from < P
            ? [{ kind: 'recv', what, peerStage: from, microbatch: op.microbatch } as const]
            : []),
          op,
          ...(to >= 0 && to < P ? [{ kind: 'send', what, peerStage: to, microbatch: op.microbatch } as const] : []),
        ];
      }),
    );

  it('finds the deadlock of the naive order under rendezvous, and runs it with buffered channels', () => {
    const r = simulateSchedules({ pp: 2, virtualChunks: 1 }, naive(2, 2), 0);
    expect(r).toEqual({
      ok: false,
      reason: 'deadlock',
      detail: 'stage 0 blocked at send activation 1 -> stage 1; stage 1 blocked at send grad 0 -> stage 0',
    });
    expect(simulateSchedules({ pp: 2, virtualChunks: 1 }, naive(2, 2), Infinity).ok).toBe(true);
  });

  it('reports a compute whose input never arrived', () => {
    const lists = oneFOneBAllStages(2, 2);
    lists[1] = lists[1].filter((op) => !(op.kind === 'recv' && op.microbatch === 1));
    lists[0] = lists[0].filter((op) => !(op.kind === 'send' && op.microbatch === 1));
    const r = simulateSchedules({ pp: 2, virtualChunks: 1 }, lists, Infinity);
    expect(r).toEqual({ ok: false, reason: 'bad-op', detail: 'stage 1 at op 4 (F1): input activation:1:1 is missing' });
  });

  it('reports a send to a stage that does not hold the next chunk', () => {
    const lists = oneFOneBAllStages(3, 3);
    const i = lists[0].findIndex((op) => op.kind === 'send');
    lists[0][i] = { kind: 'send', what: 'activation', peerStage: 2, microbatch: 0 };
    expect(simulateSchedules({ pp: 3, virtualChunks: 1 }, lists, Infinity)).toEqual({
      ok: false,
      reason: 'bad-op',
      detail: 'stage 0 at op 1 (send activation 0 -> stage 2): chunk 1 does not live on stage 2',
    });
  });

  it('reports a message that is not the one expected', () => {
    const lists = oneFOneBAllStages(2, 2);
    const i = lists[1].findIndex((op) => op.kind === 'recv' && op.microbatch === 0);
    lists[1][i] = { kind: 'recv', what: 'activation', peerStage: 0, microbatch: 1 };
    const r = simulateSchedules({ pp: 2, virtualChunks: 1 }, lists, 4);
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.detail).toContain('got activation 0');
  });
});
