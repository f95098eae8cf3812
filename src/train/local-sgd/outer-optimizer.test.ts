import { describe, expect, it } from 'vitest';
import { randn } from '../../util/rng';
import { outerStep, pseudoGradient } from './outer-optimizer';

/** PyTorch's SGD step (dampening 0), written out on f64 numbers: the formula DiLoCo uses. */
function torchSgd(theta: number[], buf: number[] | null, g: number[], lr: number, mu: number, nesterov: boolean) {
  const b = g.map((gi, i) => (buf === null ? gi : mu * buf[i] + gi));
  const d = nesterov ? g.map((gi, i) => gi + mu * b[i]) : b;
  return { theta: theta.map((t, i) => t - lr * d[i]), buf: b };
}

describe('outer optimizer', () => {
  for (const type of ['nesterov', 'sgd'] as const) {
    it(`${type}: five outer steps match PyTorch SGD(momentum 0.9, nesterov=${type === 'nesterov'})`, () => {
      const n = 257;
      const start = randn(n, 1);
      const momentum = new Float32Array(n);
      let ref = { theta: Array.from(start), buf: null as number[] | null };
      for (let k = 0; k < 5; k++) {
        const delta = randn(n, 10 + k, 0.01);
        outerStep(start, momentum, delta, { type, lr: 0.7, momentum: 0.9 });
        ref = torchSgd(ref.theta, ref.buf, Array.from(delta), 0.7, 0.9, type === 'nesterov');
      }
      for (let i = 0; i < n; i++) {
        expect(Math.abs(start[i] - ref.theta[i])).toBeLessThan(1e-6 * (1 + Math.abs(ref.theta[i])));
        expect(Math.abs(momentum[i] - ref.buf![i])).toBeLessThan(1e-6);
      }
    });
  }

  it('with lr 1 and no momentum the start point becomes the mean end point (federated averaging)', () => {
    const start = randn(100, 2);
    const ends = [randn(100, 3), randn(100, 4), randn(100, 5)];
    const mean = new Float32Array(100).map((_, i) => (ends[0][i] + ends[1][i] + ends[2][i]) / 3);
    const delta = new Float32Array(100);
    for (const e of ends) {
      const d = pseudoGradient(start, e);
      for (let i = 0; i < 100; i++) delta[i] += d[i] / 3;
    }
    outerStep(start, null, delta, { type: 'nesterov', lr: 1, momentum: 0 });
    for (let i = 0; i < 100; i++) expect(Math.abs(start[i] - mean[i])).toBeLessThan(1e-6);
  });

  it('names mismatched lengths and a missing momentum buffer', () => {
    const a = new Float32Array(3);
    expect(() => outerStep(a, null, new Float32Array(4), { type: 'sgd', lr: 1, momentum: 0 })).toThrow(
      'outerStep: start 3, momentum - and delta 4 values differ',
    );
    expect(() => outerStep(a, null, a, { type: 'sgd', lr: 1, momentum: 0.5 })).toThrow('needs a momentum buffer');
  });
});
