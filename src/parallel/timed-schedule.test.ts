import { describe, expect, it } from 'vitest';
import type { ScheduleOp } from './ops';
import { oneFOneBAllStages } from './schedule';
import { idealPipelineEfficiency, replaySchedules, stageCosts } from './timed-schedule';

const cases = [2, 4].flatMap((P) => [4, 8, 16].map((m) => [P, m] as const));

describe('replaySchedules', () => {
  it('gives the ideal m/(m + P − 1) for the 1F1B lists with equal stages and free transfers (P 2, 4 × m 4, 8, 16)', () => {
    for (const [P, m] of cases) {
      const r = replaySchedules(oneFOneBAllStages(P, m), stageCosts({ forward: 1, backward: 1 }));
      expect(r.makespanMs, `P ${P} m ${m}`).toBe((m + P - 1) * 2);
      expect(r.efficiency).toBeCloseTo(idealPipelineEfficiency(P, m), 12);
    }
  });

  // The formula assumes equal stages and free transfers, not equal forward and backward: in
  // 1F1B every stage idles (P − 1)·(F + B) in total, whatever B/F is, so B = 2F (the usual
  // ratio) and B = F/2 give the ideal exactly too.
  it('gives the ideal for any backward/forward ratio when the stages are equal', () => {
    for (const [f, b] of [
      [1, 2],
      [1, 3],
      [2, 1],
    ]) {
      for (const [P, m] of cases) {
        const r = replaySchedules(oneFOneBAllStages(P, m), stageCosts({ forward: f, backward: b }));
        expect(r.makespanMs, `F ${f} B ${b} P ${P} m ${m}`).toBe((m + P - 1) * (f + b));
        expect(r.efficiency).toBeCloseTo(idealPipelineEfficiency(P, m), 12);
      }
    }
  });

  it('falls short of the ideal when one stage is slower (the pipeline runs at its pace)', () => {
    const r = replaySchedules(oneFOneBAllStages(4, 8), stageCosts({ forward: [1, 1, 1, 1.5], backward: [2, 2, 2, 3] }));
    // the slow last stage is busy 8 × 4.5 without a gap, after 3 forwards fill the pipe and
    // before 3 backwards drain it: 3 + 36 + 6 = 45, and (3 · 8 · 3 + 36) / (4 · 45) = 0.6 < 8/11
    expect(r.stages[3].computeMs).toBe(36);
    expect(r.makespanMs).toBe(45);
    expect(r.efficiency).toBeCloseTo(0.6, 12);
  });

  it('adds transfer time where a recv waits for it (P 2, m 2, worked by hand)', () => {
    // stage 0: F0 [0,1] send a0 (arrives 1.5) F1 [1,2] send a1 (2.5) recv g0 waits to 5, B0 [5,7], recv g1 waits to 8, B1 [8,10]
    // stage 1: recv a0 to 1.5, F0 [1.5,2.5], recv a1 2.5, B0 [2.5,4.5], send g0 (5), F1 [4.5,5.5], B1 [5.5,7.5], send g1 (8)
    const r = replaySchedules(oneFOneBAllStages(2, 2), stageCosts({ forward: 1, backward: 2, transfer: 0.5 }));
    expect(r.makespanMs).toBe(10);
    expect(r.stages.map((s) => s.endMs)).toEqual([10, 7.5]);
    expect(r.stages[0].waitMs).toBe(3 + 1);
    expect(r.stages[1].waitMs).toBe(1.5);
    expect(r.efficiency).toBeCloseTo(12 / 20, 12);
    expect(r.stages[0].ops.map((t) => [t.start, t.end])).toEqual([
      [0, 1],
      [1, 1],
      [1, 2],
      [2, 2],
      [2, 5],
      [5, 7],
      [7, 8],
      [8, 10],
    ]);
  });

  it('keeps a sender busy for its send cost but never makes it wait for the receiver', () => {
    const r = replaySchedules(oneFOneBAllStages(2, 2), stageCosts({ forward: 1, backward: 1, send: 0.25 }));
    expect(r.stages[0].commMs).toBe(0.5);
    expect(r.stages[0].ops[1]).toEqual({
      op: { kind: 'send', what: 'activation', peerStage: 1, microbatch: 0 },
      start: 1,
      end: 1.25,
    });
  });

  it('is one device without a pipeline: efficiency 1', () => {
    const r = replaySchedules(oneFOneBAllStages(1, 4), stageCosts({ forward: 1, backward: 2 }));
    expect(r).toMatchObject({ makespanMs: 12, efficiency: 1 });
  });

  it('reports a deadlock, a mismatched message and a send never received', () => {
    const cross: ScheduleOp[][] = [
      [
        { kind: 'recv', what: 'grad', peerStage: 1, microbatch: 0 },
        { kind: 'send', what: 'activation', peerStage: 1, microbatch: 0 },
      ],
      [
        { kind: 'recv', what: 'activation', peerStage: 0, microbatch: 0 },
        { kind: 'send', what: 'grad', peerStage: 0, microbatch: 0 },
      ],
    ];
    const costs = stageCosts({ forward: 1, backward: 1 });
    expect(() => replaySchedules(cross, costs)).toThrow(
      'the op lists deadlock: stage 0 at recv grad 0 <- stage 1; stage 1 at recv activation 0 <- stage 0',
    );
    const swapped = oneFOneBAllStages(2, 2);
    const i = swapped[1].findIndex((op) => op.kind === 'recv');
    swapped[1][i] = { kind: 'recv', what: 'activation', peerStage: 0, microbatch: 1 };
    expect(() => replaySchedules(swapped, costs)).toThrow(
      'stage 1, recv activation 1 <- stage 0: stage 0 sent activation 0 first',
    );
    const extra = oneFOneBAllStages(2, 2);
    extra[0].push({ kind: 'send', what: 'activation', peerStage: 1, microbatch: 9 });
    expect(() => replaySchedules(extra, costs)).toThrow('sends never received on 0→1');
    expect(() => replaySchedules(oneFOneBAllStages(2, 2), stageCosts({ forward: -1, backward: 1 }))).toThrow(
      'compute time must be a finite number ≥ 0, got -1',
    );
  });
});
