import { describe, expect, it } from 'vitest';
import { Rng } from '../../util/rng';
import { fromHalfBits, toHalfBits } from './half';

/** Every finite half value, ascending, with its bits: the reference for rounding. */
function finiteHalves(): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let h = 0; h < 0x7c00; h++) out.push([fromHalfBits(h), h]);
  return out;
}

describe('fp16 conversion', () => {
  it('decodes the known values', () => {
    expect([0x3c00, 0xc000, 0x7bff, 0x0400, 0x0001, 0x8000].map(fromHalfBits)).toEqual([
      1,
      -2,
      65504,
      2 ** -14,
      2 ** -24,
      -0,
    ]);
    expect(fromHalfBits(0x7c00)).toBe(Infinity);
    expect(fromHalfBits(0xfc00)).toBe(-Infinity);
    expect(fromHalfBits(0x7e00)).toBeNaN();
  });

  it('round-trips every half bit pattern (NaNs stay NaN)', () => {
    for (let h = 0; h < 65536; h++) {
      const v = fromHalfBits(h);
      if (Number.isNaN(v)) expect(Number.isNaN(fromHalfBits(toHalfBits(v)))).toBe(true);
      else expect(toHalfBits(v), `bits ${h.toString(16)}`).toBe(h);
    }
  });

  it('rounds to the nearest half, ties to the even one, against a search of the value table', () => {
    const halves = finiteHalves();
    const nearest = (x: number): number => {
      let lo = 0,
        hi = halves.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (halves[mid][0] <= x) lo = mid;
        else hi = mid;
      }
      const [a, ha] = halves[lo],
        [b, hb] = halves[hi];
      if (x - a < b - x) return ha;
      if (x - a > b - x) return hb;
      return ha % 2 === 0 ? ha : hb;
    };
    const rng = new Rng(7);
    for (let i = 0; i < 20000; i++) {
      const x = Math.fround(rng.uniform() * 2 ** (rng.int(40) - 26)); // subnormals to near the max
      if (x > 65504) continue;
      expect(toHalfBits(x), `x = ${x}`).toBe(nearest(x));
      expect(toHalfBits(-x)).toBe(nearest(x) | 0x8000);
    }
    // exact ties: halfway between 1 and the next half rounds to 1 (even), 1.5 ulp rounds up
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(2 ** -25)).toBe(0); // half the smallest subnormal: tie to even (0)
    expect(toHalfBits(Math.fround(2 ** -25 * 1.0001))).toBe(1);
  });

  it('overflows to infinity past the largest half (65504 + half an ulp)', () => {
    expect(toHalfBits(65519)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00);
    expect(toHalfBits(-1e9)).toBe(0xfc00);
    expect(toHalfBits(Number.NaN) & 0x7c00).toBe(0x7c00);
  });
});
