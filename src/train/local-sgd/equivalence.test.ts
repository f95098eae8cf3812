// "With inner_steps 1, outer lr 1 and no momentum, local SGD is synchronous training": data-parallel
// replicas on plain arrays over the loopback transport, one run all-reducing gradients every step
// (the ordinary collective), one running LocalSgd rounds (the compressed ring with the f32 codec).
// The inner optimizer is SGD: averaging the replicas' updates equals updating with the averaged
// gradient exactly when the update is linear in the gradient (with Adam it is not: each replica's
// Adam normalises its own gradient).

import { describe, expect, it } from 'vitest';
import { allReduce } from '../../comm/collectives';
import { transportP2P } from '../../comm/compress/compressed-ring';
import { Group } from '../../comm/group';
import { createLoopbackWorld } from '../../comm/loopback';
import { LOCAL_SGD_DEFAULTS, type LocalSgdConfig } from '../../config/local-sgd';
import { LocalSgd, localSgdSettings, type ParamIo } from './local-sgd';
import { ringAverage } from './replica-average';
import { toyBatch, toyGrad, toyLoss } from './toy-problem';

const P = 37,
  M = 12,
  LR = 0.05,
  STEPS = 25;

const config = (change: Partial<LocalSgdConfig>): LocalSgdConfig => ({
  ...structuredClone(LOCAL_SGD_DEFAULTS),
  ...change,
});

function sgdStep(w: Float32Array, replica: number, step: number): Float32Array {
  const g = toyGrad(w, toyBatch(P, M, replica, step));
  return Float32Array.from(g);
}

async function synchronous(dp: number): Promise<Float32Array[][]> {
  const world = createLoopbackWorld(dp);
  const ranks = world.transports.map((t) => t.rank);
  return Promise.all(
    world.transports.map(async (t, r) => {
      const group = new Group(t, ranks);
      const w = new Float32Array(P);
      const history: Float32Array[] = [];
      for (let s = 0; s < STEPS; s++) {
        const g = await allReduce(group, sgdStep(w, r, s), 'avg');
        for (let i = 0; i < P; i++) w[i] -= LR * g[i];
        history.push(w.slice());
      }
      return history;
    }),
  );
}

async function localSgd(dp: number, c: LocalSgdConfig): Promise<Float32Array[][]> {
  const world = createLoopbackWorld(dp);
  const ranks = world.transports.map((t) => t.rank);
  return Promise.all(
    world.transports.map(async (t, r) => {
      const sgd = new LocalSgd(localSgdSettings(c), {
        length: P,
        totalSteps: STEPS,
        allReduce: ringAverage(transportP2P(t, 5000), ranks),
      });
      const w = new Float32Array(P);
      sgd.begin(w);
      const io: ParamIo = { read: async (rg) => w.slice(rg.start, rg.end), write: (v, at) => w.set(v, at) };
      const history: Float32Array[] = [];
      for (let s = 0; s < STEPS; s++) {
        const g = sgdStep(w, r, s);
        for (let i = 0; i < P; i++) w[i] -= LR * g[i];
        await sgd.afterStep(s + 1, io);
        history.push(w.slice());
      }
      return history;
    }),
  );
}

const relDiff = (a: Float32Array, b: Float32Array) =>
  Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i]))) / Math.max(...Array.from(b, Math.abs));

describe('local SGD with inner_steps 1, outer lr 1, momentum 0', () => {
  for (const dp of [1, 2, 4]) {
    it(`equals synchronous data-parallel SGD at every step: ${dp} replica(s), ${STEPS} steps`, async () => {
      const fedAvg = config({ inner_steps: 1, outer_optimizer: { type: 'nesterov', lr: 1, momentum: 0 } });
      const [sync, local] = await Promise.all([synchronous(dp), localSgd(dp, fedAvg)]);
      for (let s = 0; s < STEPS; s++) {
        for (let r = 0; r < dp; r++)
          expect(relDiff(local[r][s], sync[0][s]), `step ${s} replica ${r}`).toBeLessThan(2e-6);
      }
      // and it trained: the loss on a fixed batch fell
      const probe = toyBatch(P, 64, 99, 0);
      expect(toyLoss(local[0][STEPS - 1], probe)).toBeLessThan(0.8 * toyLoss(new Float32Array(P), probe));
    });
  }

  it('differs from synchronous training once rounds are longer (so the test above can fail)', async () => {
    const [sync, local] = await Promise.all([
      synchronous(2),
      localSgd(2, config({ inner_steps: 5, outer_optimizer: { type: 'nesterov', lr: 1, momentum: 0 } })),
    ]);
    expect(relDiff(local[0][STEPS - 1], sync[0][STEPS - 1])).toBeGreaterThan(1e-3);
  });
});
