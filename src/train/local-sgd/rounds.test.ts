// LocalSgd's rounds against a CPU reference written out on plain f64 arrays: replicas take SGD
// steps on their own batches; fragments sync on the staggered schedule, overlapped syncs mix
// local and global values, and the Nesterov outer step moves the start point; after the last
// step every replica holds the same parameters.

import { describe, expect, it } from 'vitest';
import { transportP2P } from '../../comm/compress/compressed-ring';
import { createLoopbackWorld } from '../../comm/loopback';
import { LOCAL_SGD_DEFAULTS, type LocalSgdConfig } from '../../config/local-sgd';
import { LocalSgd, localSgdSettings, type OuterRoundReport } from './local-sgd';
import { ringAverage } from './replica-average';
import { fragmentRanges, fragmentsStartingAt } from './schedule';
import { toyBatch, toyGrad, toyLoss } from './toy-problem';
import { maxRelDiff } from '../../util/max-rel-diff';

const P = 41,
  M = 8,
  LR = 0.03;

interface Run {
  params: Float32Array[];
  start: Float32Array;
  reports: OuterRoundReport[][];
}

async function runLocalSgd(dp: number, steps: number, c: LocalSgdConfig): Promise<Run> {
  const world = createLoopbackWorld(dp);
  const ranks = world.transports.map((t) => t.rank);
  const out = await Promise.all(
    world.transports.map(async (t, r) => {
      const sgd = new LocalSgd(localSgdSettings(c), {
        length: P,
        totalSteps: steps,
        allReduce: ringAverage(transportP2P(t, 5000), ranks),
      });
      const w = new Float32Array(P);
      sgd.begin(w);
      const reports: OuterRoundReport[] = [];
      for (let s = 0; s < steps; s++) {
        const g = toyGrad(w, toyBatch(P, M, r, s));
        for (let i = 0; i < P; i++) w[i] -= LR * g[i];
        reports.push(
          ...(await sgd.afterStep(s + 1, {
            read: async (rg) => w.slice(rg.start, rg.end),
            write: (v, at) => w.set(v, at),
          })),
        );
      }
      return { w, start: sgd.startPoint(), reports };
    }),
  );
  return { params: out.map((o) => o.w), start: out[0].start, reports: out.map((o) => o.reports) };
}

/** The algorithm on plain f64 arrays, step by step. */
function reference(dp: number, steps: number, c: LocalSgdConfig) {
  const { inner_steps: H, streaming: st, outer_optimizer: o } = c;
  const F = st.fragments;
  const ranges = fragmentRanges(P, F);
  const start = new Float64Array(P),
    mom = new Float64Array(P);
  const w = Array.from({ length: dp }, () => new Float64Array(P));
  const lastStart = Array(F).fill(0);
  const pending = new Map<number, { at: number; finish: number; delta: Float64Array }>();
  const apply = (f: number, delta: Float64Array, mixWithLocal: boolean) => {
    const { start: a, end: b } = ranges[f];
    for (let i = a; i < b; i++) {
      const buf = o.momentum * mom[i] + delta[i - a];
      mom[i] = buf;
      start[i] -= o.lr * (o.type === 'nesterov' ? delta[i - a] + o.momentum * buf : buf);
      for (const x of w) x[i] = mixWithLocal ? st.mix * x[i] + (1 - st.mix) * start[i] : start[i];
    }
  };
  for (let s = 1; s <= steps; s++) {
    w.forEach((x, r) => {
      const g = toyGrad(Float32Array.from(x), toyBatch(P, M, r, s - 1));
      for (let i = 0; i < P; i++) x[i] -= LR * g[i];
    });
    const last = s === steps;
    for (const [f, p] of [...pending]) {
      if (p.finish > s && !last) continue;
      pending.delete(f);
      apply(f, p.delta, s > p.at);
    }
    const due = new Set(fragmentsStartingAt(s, H, F));
    if (last) for (let f = 0; f < F; f++) if (lastStart[f] < s) due.add(f);
    for (const f of [...due].sort()) {
      const { start: a, end: b } = ranges[f];
      const delta = new Float64Array(b - a);
      for (const x of w) for (let i = a; i < b; i++) delta[i - a] += (start[i] - x[i]) / dp;
      lastStart[f] = s;
      const overlap = last ? 0 : st.overlap_steps;
      if (overlap === 0) apply(f, delta, false);
      else pending.set(f, { at: s, finish: s + overlap, delta });
    }
  }
  return { w, start };
}

const cfg = (c: Partial<LocalSgdConfig>): LocalSgdConfig => ({ ...structuredClone(LOCAL_SGD_DEFAULTS), ...c });

describe('LocalSgd rounds against the CPU reference', () => {
  const cases: Array<[string, number, number, LocalSgdConfig]> = [
    ['DiLoCo: H 4, Nesterov 0.7/0.9, 3 replicas, a last partial round', 3, 14, cfg({ inner_steps: 4 })],
    [
      'heavy-ball SGD outer optimizer, 2 replicas',
      2,
      12,
      cfg({ inner_steps: 3, outer_optimizer: { type: 'sgd', lr: 0.5, momentum: 0.5 } }),
    ],
    [
      'streaming: 3 fragments staggered, syncs overlapping 1 inner step, mix 0.5',
      3,
      17,
      cfg({ inner_steps: 6, streaming: { fragments: 3, overlap_steps: 1, mix: 0.5 } }),
    ],
  ];
  for (const [what, dp, steps, c] of cases) {
    it(what, async () => {
      const got = await runLocalSgd(dp, steps, c);
      const want = reference(dp, steps, c);
      expect(maxRelDiff(got.start, want.start)).toBeLessThan(1e-5);
      for (let r = 0; r < dp; r++) {
        expect(maxRelDiff(got.params[r], want.w[r]), `replica ${r}`).toBeLessThan(1e-5);
        expect(got.params[r], 'replicas end equal').toEqual(got.params[0]);
      }
      const probe = toyBatch(P, 64, 99, 0);
      expect(toyLoss(got.start, probe)).toBeLessThan(0.8 * toyLoss(new Float32Array(P), probe));
    });
  }

  it('reports each sync: fragment, steps, bytes on the wire, norms', async () => {
    const got = await runLocalSgd(2, 10, cfg({ inner_steps: 4 }));
    const rep = got.reports[0];
    expect(rep.map((x) => [x.startedAt, x.appliedAt, x.fragment])).toEqual([
      [4, 4, 0],
      [8, 8, 0],
      [10, 10, 0],
    ]);
    // two replicas: each sends one chunk in the reduce-scatter and one in the all-gather, f32
    expect(rep[0].bytesSent).toBe(4 * P);
    expect(rep[0].values).toBe(P);
    expect(rep[0].deltaNorm).toBeGreaterThan(0);
    expect(rep[0].updateNorm).toBeGreaterThan(rep[0].deltaNorm * 0.7); // lr 0.7, plus momentum 0.9 · b
  });

  it('int8 with error feedback: replicas agree, a quarter of the bytes, and the model stays close to f32', async () => {
    const base = cfg({ inner_steps: 4 });
    const int8 = cfg({ inner_steps: 4, compression: { type: 'int8', block_size: 16, error_feedback: true } });
    const [f32Run, q] = await Promise.all([runLocalSgd(3, 20, base), runLocalSgd(3, 20, int8)]);
    for (const w of q.params) expect(w).toEqual(q.params[0]);
    const probe = toyBatch(P, 64, 99, 0);
    const [lf, lq] = [toyLoss(f32Run.start, probe), toyLoss(q.start, probe)];
    expect(Math.abs(lq - lf) / lf).toBeLessThan(0.05);
    const bytes = (r: Run) => r.reports[0].reduce((a, x) => a + x.bytesSent, 0);
    expect(bytes(q) / bytes(f32Run)).toBeLessThan(0.4);
  });
});
