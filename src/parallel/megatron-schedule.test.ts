// The non-interleaved schedule against Megatron-LM's
// (megatron/core/pipeline_parallel/schedules.py, forward_backward_pipelining_without_interleaving),
// written out here as the op list one stage of it runs: w = min(P − s − 1, m) warm-up forwards,
// then m − w rounds of one forward and one backward, then w cool-down backwards; each forward
// receives its input first and sends its output after, each backward likewise. With m < P the
// early stages run only warm-up and cool-down (no steady state), as Megatron and DeepSpeed do.
import { describe, expect, it } from 'vitest';
import { isCompute, opLabel, type ScheduleOp } from './ops';
import { makePlan, type PlanInput } from './plan';
import { planJson } from './plan-json';
import { oneFOneBAllStages } from './schedule';
import { simulateSchedules } from './simulate';

/** One stage's op labels in Megatron's order. */
function megatronStage(P: number, s: number, m: number): string[] {
  const out: string[] = [];
  const recvAct = (i: number) => s > 0 && out.push(`recv activation ${i} <- stage ${s - 1}`);
  const sendAct = (i: number) => s < P - 1 && out.push(`send activation ${i} -> stage ${s + 1}`);
  const recvGrad = (i: number) => s < P - 1 && out.push(`recv grad ${i} <- stage ${s + 1}`);
  const sendGrad = (i: number) => s > 0 && out.push(`send grad ${i} -> stage ${s - 1}`);
  const forward = (i: number) => {
    recvAct(i);
    out.push(`F${i}`);
    sendAct(i);
  };
  const backward = (i: number) => {
    recvGrad(i);
    out.push(`B${i}`);
    sendGrad(i);
  };
  const warmup = Math.min(P - s - 1, m);
  for (let i = 0; i < warmup; i++) forward(i);
  for (let i = 0; i < m - warmup; i++) {
    forward(warmup + i);
    backward(i);
  }
  for (let i = m - warmup; i < m; i++) backward(i);
  return out;
}

const isComputeLabel = (l: string) => /^[FB]\d+$/.test(l);
/** The transfers of one channel (e.g. "recv grad"), in order: what must match message for message. */
const channel = (labels: string[], prefix: string) => labels.filter((l) => l.startsWith(prefix));
const CHANNELS = ['send activation', 'recv activation', 'send grad', 'recv grad'];

const planInput = (pp: number, m: number): PlanInput => ({
  world: pp,
  tp: 1,
  pipeParallelSize: pp,
  virtualChunks: 1,
  numLayers: 8,
  hidden: 32,
  heads: 4,
  seqLength: 32,
  posEmb: 'rotary',
  norm: 'layernorm',
  tiedEmbeddings: true,
  vocabSize: 256,
  makeVocabSizeDivisibleBy: 128,
  microBatch: 1,
  gradientAccumulationSteps: m,
  partitionMethod: 'type:transformer',
  zeroStage: 0,
  recomputeActivations: false,
});

describe("non-interleaved 1F1B is Megatron's schedule, including fewer microbatches than stages", () => {
  it('has the computes of Megatron, in its order, and the same messages on every channel (P 2..8, m 1..2P)', () => {
    for (let P = 2; P <= 8; P++) {
      for (let m = 1; m <= 2 * P; m++) {
        const ours = oneFOneBAllStages(P, m).map((ops) => ops.map(opLabel));
        ours.forEach((labels, s) => {
          const want = megatronStage(P, s, m);
          const where = `P ${P} m ${m} stage ${s}`;
          expect(labels.filter(isComputeLabel), where).toEqual(want.filter(isComputeLabel));
          for (const c of CHANNELS) expect(channel(labels, c), `${where}: ${c}`).toEqual(channel(want, c));
        });
      }
    }
  });

  it('runs m < P as warm-up forwards then cool-down backwards on the first stages (P 4, m 2)', () => {
    const order = oneFOneBAllStages(4, 2).map((ops) => ops.filter(isCompute).map(opLabel).join(' '));
    expect(order).toEqual(['F0 F1 B0 B1', 'F0 F1 B0 B1', 'F0 F1 B0 B1', 'F0 B0 F1 B1']);
    expect(megatronStage(4, 0, 2)).toEqual([
      'F0',
      'send activation 0 -> stage 1',
      'F1',
      'send activation 1 -> stage 1',
      'recv grad 0 <- stage 1',
      'B0',
      'recv grad 1 <- stage 1',
      'B1',
    ]);
    expect(oneFOneBAllStages(4, 2)[0].map(opLabel)).toEqual(megatronStage(4, 0, 2));
  });

  it('never deadlocks with m < P, even when a send waits for its receiver', () => {
    for (let P = 2; P <= 8; P++)
      for (let m = 1; m < P; m++) {
        const lists: ScheduleOp[][] = oneFOneBAllStages(P, m);
        expect(simulateSchedules({ pp: P, virtualChunks: 1 }, lists, 0), `P ${P} m ${m}`).toEqual({
          ok: true,
          steps: lists.flat().length,
        });
      }
  });

  it('is what `tabtron plan --json` prints for m < P (P 4, m 1..3), with the bubble (P − 1)/(m + P − 1)', () => {
    for (let m = 1; m < 4; m++) {
      const j = planJson(makePlan(planInput(4, m)));
      expect(j.gradient_accumulation_steps).toBe(m);
      j.schedule.forEach((st, s) => {
        const want = megatronStage(4, s, m);
        expect(st.ops).toEqual(want.filter(isComputeLabel));
        for (const c of CHANNELS) expect(channel(st.steps, c)).toEqual(channel(want, c));
      });
      expect(j.bubble_fraction).toBeCloseTo(3 / (m + 3), 12);
      // every stage holds at most m microbatches' activations
      for (const st of j.stages) expect(st.peak_in_flight_microbatches).toBeLessThanOrEqual(m);
    }
  });
});
