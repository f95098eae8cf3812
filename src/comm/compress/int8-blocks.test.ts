import { describe, expect, it } from 'vitest';
import { randn } from '../../util/rng';
import { decodeInt8Blocks, encodeInt8Blocks, int8Bytes } from './int8-blocks';
import { f32Codec, int8Codec } from './wire-codec';

const roundTrip = (x: Float32Array, block: number) => decodeInt8Blocks(encodeInt8Blocks(x, block), x.length, block);

/** Values spanning 8 orders of magnitude, so blocks have very different scales. */
function spread(n: number, seed: number): Float32Array {
  const x = randn(n, seed);
  for (let i = 0; i < n; i++) x[i] *= 10 ** ((Math.floor(i / 37) % 9) - 4);
  return x;
}

describe('int8 with per-block scales', () => {
  for (const [n, block] of [
    [1000, 256],
    [1031, 64],
    [7, 256],
    [0, 16],
    [4096, 8],
  ]) {
    it(`keeps every value within half its block's step (max|x| / 254): ${n} values, blocks of ${block}`, () => {
      const x = spread(n, n + block);
      const bytes = encodeInt8Blocks(x, block);
      expect(bytes.byteLength).toBe(int8Bytes(n, block));
      expect(bytes.byteLength).toBe(4 * Math.ceil(n / block) + n);
      const y = decodeInt8Blocks(bytes, n, block);
      for (let b = 0; b * block < n; b++) {
        const blockX = x.subarray(b * block, (b + 1) * block);
        const max = Math.max(...Array.from(blockX, Math.abs));
        const bound = (max / 254) * (1 + 1e-6);
        for (let i = b * block; i < Math.min(n, (b + 1) * block); i++)
          expect(Math.abs(y[i] - x[i]), `value ${i}`).toBeLessThanOrEqual(bound);
      }
    });
  }

  it('sends the largest value of each block exactly (±127 · scale) and keeps signs', () => {
    const x = Float32Array.from([0.5, -3, 1e-3, 2.999, -0, 7, -7, 0.01]);
    const y = roundTrip(x, 4);
    expect(Math.abs(y[1] - -3)).toBeLessThan(1e-6);
    expect(Math.abs(y[5] - 7)).toBeLessThan(1e-6);
    expect(Math.abs(y[6] + 7)).toBeLessThan(1e-6);
    expect(Math.sign(y[0])).toBe(1);
  });

  it('gives zeros for an all-zero block and NaNs for a block holding a non-finite value', () => {
    const x = Float32Array.from([0, 0, 0, 0, 1, Number.POSITIVE_INFINITY, 2, 3, 4, Number.NaN]);
    const y = roundTrip(x, 4);
    expect(Array.from(y.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(y.subarray(4, 10)).every(Number.isNaN)).toBe(true);
  });

  it('refuses a buffer of the wrong size, naming both sizes', () => {
    expect(() => decodeInt8Blocks(new Uint8Array(10), 8, 4)).toThrow(
      'decodeInt8Blocks: 10 bytes cannot hold 8 values (need 16)',
    );
    expect(() => encodeInt8Blocks(new Float32Array(4), 0)).toThrow('block size must be a positive integer, got 0');
  });
});

describe('error feedback', () => {
  it('loses nothing over rounds: Σ decoded = Σ inputs − last residual, bounded whatever the round count', () => {
    const codec = int8Codec(32);
    const n = 500;
    const residual = new Float32Array(n);
    const sumIn = new Float64Array(n),
      sumOut = new Float64Array(n),
      sumPlain = new Float64Array(n),
      sumAbs = new Float64Array(n);
    const rounds = 200;
    for (let r = 0; r < rounds; r++) {
      const x = spread(n, 1000 + r);
      const out = codec.decode(codec.encode(x, residual), n);
      const plain = codec.decode(codec.encode(x), n);
      for (let i = 0; i < n; i++) {
        sumIn[i] += x[i];
        sumOut[i] += out[i];
        sumPlain[i] += plain[i];
        sumAbs[i] += Math.abs(x[i]);
      }
      // exact but for f32 rounding of x + residual
      for (let i = 0; i < n; i++)
        expect(Math.abs(sumIn[i] - sumOut[i] - residual[i])).toBeLessThanOrEqual(1e-6 * sumAbs[i]);
    }
    // the residual never exceeds one round's quantisation step of its block
    const x = spread(n, 999);
    let worstEf = 0,
      worstPlain = 0;
    for (let i = 0; i < n; i++) {
      const block = Math.floor(i / 32) * 32;
      const step = Math.max(...Array.from(x.subarray(block, block + 32), Math.abs)) / 127;
      worstEf = Math.max(worstEf, Math.abs(sumIn[i] - sumOut[i]) / step);
      worstPlain = Math.max(worstPlain, Math.abs(sumIn[i] - sumPlain[i]) / step);
    }
    expect(worstEf).toBeLessThan(4); // a few steps of one block, after 200 rounds
    expect(worstPlain).toBeGreaterThan(10 * worstEf); // without feedback the errors pile up
  });

  it('eventually sends a value far below its block step, which plain int8 rounds to zero forever', () => {
    const codec = int8Codec(4);
    const x = Float32Array.from([1, 1e-3, -1e-3, 0]);
    const residual = new Float32Array(4);
    let sent = 0,
      plain = 0;
    for (let r = 0; r < 100; r++) {
      sent += codec.decode(codec.encode(x, residual), 4)[1];
      plain += codec.decode(codec.encode(x), 4)[1];
    }
    expect(plain).toBe(0);
    expect(Math.abs(sent - 0.1)).toBeLessThan(1 / 127);
  });

  it('the f32 codec is lossless and leaves a residual untouched', () => {
    const x = spread(100, 3);
    const residual = new Float32Array(100);
    const y = f32Codec.decode(f32Codec.encode(x, residual), 100);
    expect(y).toEqual(x);
    expect(residual.every((r) => r === 0)).toBe(true);
  });
});
