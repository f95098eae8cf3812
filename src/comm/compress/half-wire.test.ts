import { describe, expect, it } from 'vitest';
import { Rng } from '../../util/rng';
import { toHalfBits } from './half';
import { decodeHalf, encodeHalf, fromBf16Bits, halfCodec, toBf16Bits } from './half-wire';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const fromBits = (b: number) => {
  u32[0] = b;
  return f32[0];
};

describe('bf16 and plain fp16 on the wire', () => {
  it('bf16 rounds to the nearer of its two neighbours, ties to the even one (checked in f64)', () => {
    const rng = new Rng(3);
    for (let i = 0; i < 20_000; i++) {
      const bits = Math.floor(rng.uniform() * 2 ** 32) >>> 0;
      const x = fromBits(bits);
      if (!Number.isFinite(x)) continue;
      const down = bits >>> 16;
      // IEEE rounding treats the step past the largest finite value as 2^128 (it then gives ±Inf)
      const up = fromBf16Bits(down + 1);
      const [a, b] = [fromBf16Bits(down), Number.isFinite(up) ? up : Math.sign(up) * 2 ** 128];
      const da = Math.abs(x - a),
        db = Math.abs(x - b);
      const want = da < db ? down : db < da ? down + 1 : down % 2 === 0 ? down : down + 1;
      expect(toBf16Bits(x), `bits ${bits.toString(16)}`).toBe(want & 0xffff);
    }
    expect(toBf16Bits(Number.NaN) & 0x7fc0).toBe(0x7fc0);
    expect(fromBf16Bits(toBf16Bits(1 + 2 ** -8))).toBe(1); // a tie: down to even
    expect(fromBf16Bits(toBf16Bits(1 + 3 * 2 ** -8))).toBe(1 + 2 ** -6); // a tie: up to even
  });

  it('encodes two bytes a value and decodes exactly what the 16-bit value holds', () => {
    const x = new Float32Array([1, -2.5, 65504, 70000, 1e-8, 2.71, -0]);
    const fp16 = decodeHalf('fp16', encodeHalf('fp16', x), x.length);
    expect(encodeHalf('fp16', x).byteLength).toBe(14);
    expect(Array.from(fp16.slice(0, 4))).toEqual([1, -2.5, 65504, Number.POSITIVE_INFINITY]); // fp16 overflows
    expect(new Uint16Array(encodeHalf('fp16', x).buffer)[5]).toBe(toHalfBits(2.71));
    const bf16 = decodeHalf('bf16', encodeHalf('bf16', x), x.length);
    expect(bf16[3]).toBe(70144); // bf16 keeps the range, not the digits
    expect(Object.is(bf16[6], -0)).toBe(true);
    expect(halfCodec('bf16').bytes(5)).toBe(10);
  });
});
