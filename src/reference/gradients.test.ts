// The kernel checks compare GPU results with these references, so the references'
// backward formulas are themselves checked here against central finite differences
// of their forward functions (and the QKV split against its adjoint identity).
import { describe, expect, it } from 'vitest';
import { randn } from '../util/rng';
import { causalSoftmaxBackwardRef, causalSoftmaxRef, qkvSplitBackwardRef, qkvSplitRef } from './attention';
import { crossEntropyRef } from './crossentropy';
import { layernormBackwardRef, layernormRef, rmsnormBackwardRef, rmsnormRef } from './norms';

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

/** max relative error between analytic grad and central differences of f at x */
function fdError(f: (x: Float64Array) => number, x: ArrayLike<number>, grad: ArrayLike<number>, h = 1e-5): number {
  const xx = Float64Array.from(x);
  let maxDiff = 0,
    maxRef = 0;
  for (let i = 0; i < xx.length; i++) {
    const keep = xx[i];
    xx[i] = keep + h;
    const up = f(xx);
    xx[i] = keep - h;
    const down = f(xx);
    xx[i] = keep;
    const num = (up - down) / (2 * h);
    maxDiff = Math.max(maxDiff, Math.abs(num - grad[i]));
    maxRef = Math.max(maxRef, Math.abs(num));
  }
  return maxDiff / maxRef;
}

describe('reference gradients match finite differences', () => {
  const N = 3,
    C = 7,
    eps = 1e-5;
  const x = randn(N * C, 1, 2),
    w = randn(C, 2),
    b = randn(C, 3),
    dy = randn(N * C, 4);

  it('layernorm: dinp, dweight, dbias', () => {
    const g = layernormBackwardRef(dy, x, w, N, C, eps);
    expect(fdError((xx) => dot(dy, layernormRef(xx, w, b, N, C, eps).out), x, g.dinp)).toBeLessThan(1e-7);
    expect(fdError((ww) => dot(dy, layernormRef(x, ww, b, N, C, eps).out), w, g.dweight)).toBeLessThan(1e-7);
    expect(fdError((bb) => dot(dy, layernormRef(x, w, bb, N, C, eps).out), b, g.dbias)).toBeLessThan(1e-7);
  });

  it('rmsnorm: dinp, dweight', () => {
    const g = rmsnormBackwardRef(dy, x, w, N, C, eps);
    expect(fdError((xx) => dot(dy, rmsnormRef(xx, w, N, C, eps).out), x, g.dinp)).toBeLessThan(1e-7);
    expect(fdError((ww) => dot(dy, rmsnormRef(x, ww, N, C, eps).out), w, g.dweight)).toBeLessThan(1e-7);
  });

  it('causal softmax: dscores', () => {
    const BH = 2,
      T = 5,
      scale = 0.7;
    const s = randn(BH * T * T, 5),
      dp = randn(BH * T * T, 6);
    const grad = causalSoftmaxBackwardRef(causalSoftmaxRef(s, BH, T, scale), dp, BH, T, scale);
    expect(fdError((ss) => dot(dp, causalSoftmaxRef(ss, BH, T, scale)), s, grad)).toBeLessThan(1e-7);
  });

  it('cross-entropy: dlogits of the scaled loss sum, ignored rows contribute nothing', () => {
    const R = 4,
      V = 9,
      scale = 0.25;
    const logits = randn(R * V, 7),
      targets = [3, -1, 8, 0];
    const grad = crossEntropyRef(logits, targets, R, V, scale).dlogits;
    const loss = (l: Float64Array) =>
      scale * crossEntropyRef(l, targets, R, V, scale).losses.reduce((a, v) => a + v, 0);
    expect(fdError(loss, logits, grad)).toBeLessThan(1e-7);
    expect(grad.slice(V, 2 * V).every((g) => g === 0)).toBe(true);
  });

  it('qkv split backward is the adjoint of the forward (rotary is orthogonal)', () => {
    const B = 2,
      T = 6,
      H = 2,
      hd = 6,
      r = { dims: 4, base: 100 };
    const n = B * H * T * hd;
    const qkv = randn(3 * n, 8),
      gq = randn(n, 9),
      gk = randn(n, 10),
      gv = randn(n, 11);
    const f = qkvSplitRef(qkv, B, T, H, hd, r);
    const lhs = dot(f.q, gq) + dot(f.k, gk) + dot(f.v, gv);
    const rhs = dot(qkv, qkvSplitBackwardRef(gq, gk, gv, B, T, H, hd, r));
    expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9 * Math.abs(lhs) + 1e-12);
  });

  it('rotary follows NeoX rotate_half: x1·cos - x2·sin, x2·cos + x1·sin at angle t·base^(-2i/dims)', () => {
    const hd = 4,
      r = { dims: 4, base: 10000 },
      t = 3;
    const qkv = new Float64Array(4 * 3 * hd); // B=1, T=4, H=1
    const src = t * 3 * hd;
    qkv.set([1, 2, 3, 4], src);
    const q = qkvSplitRef(qkv, 1, 4, 1, hd, r).q.slice(t * hd, t * hd + hd);
    const a0 = t,
      a1 = t * 10000 ** -0.5;
    const want = [
      1 * Math.cos(a0) - 3 * Math.sin(a0),
      2 * Math.cos(a1) - 4 * Math.sin(a1),
      3 * Math.cos(a0) + 1 * Math.sin(a0),
      4 * Math.cos(a1) + 2 * Math.sin(a1),
    ];
    want.forEach((v, i) => expect(q[i]).toBeCloseTo(v, 12));
  });
});
