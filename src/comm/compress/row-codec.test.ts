import { describe, expect, it } from 'vitest';
import { randn } from '../../util/rng';
import { decodeRows, encodeRows, rowCodecBytes } from './row-codec';

/** (rows, cols) activations whose rows differ in scale by up to 10^±12. */
function activations(rows: number, cols: number, seed: number): Float32Array {
  const x = randn(rows * cols, seed);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) x[r * cols + c] *= 10 ** ((r % 25) - 12);
  return x;
}

function rowMax(x: Float32Array, r: number, cols: number): number {
  let m = 0;
  for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(x[r * cols + c]));
  return m;
}

describe('per-row codecs for pipeline traffic', () => {
  const [rows, cols] = [64, 48];
  const x = activations(rows, cols, 11);

  it('fp16: every value within fp16 rounding (2^-11 relative) or, below the row max / 2^24, absolutely', () => {
    const bytes = encodeRows('fp16', x, rows, cols);
    expect(bytes.byteLength).toBe(rowCodecBytes('fp16', rows, cols));
    expect(bytes.byteLength).toBe(4 * rows + 2 * rows * cols);
    const y = decodeRows('fp16', bytes, rows, cols);
    for (let r = 0; r < rows; r++) {
      const floor = rowMax(x, r, cols) * 2 ** -24;
      for (let c = 0; c < cols; c++) {
        const i = r * cols + c;
        expect(Math.abs(y[i] - x[i]), `(${r}, ${c})`).toBeLessThanOrEqual(Math.abs(x[i]) * 2 ** -11 + floor);
      }
    }
  });

  it('int8: every value within half a step of its row (max|row| / 254)', () => {
    const bytes = encodeRows('int8', x, rows, cols);
    expect(bytes.byteLength).toBe(4 * rows + rows * cols);
    const y = decodeRows('int8', bytes, rows, cols);
    for (let r = 0; r < rows; r++) {
      const bound = (rowMax(x, r, cols) / 254) * (1 + 1e-6);
      for (let c = 0; c < cols; c++) expect(Math.abs(y[r * cols + c] - x[r * cols + c])).toBeLessThanOrEqual(bound);
    }
  });

  it('fp16 keeps rows far outside the half range (1e-30, 1e30) and a row of zeros', () => {
    const odd = Float32Array.from([1e30, -3e29, 7e28, 1e-30, -2e-31, 5e-32, 0, 0, 0]);
    const y = decodeRows('fp16', encodeRows('fp16', odd, 3, 3), 3, 3);
    for (let i = 0; i < 6; i++) expect(Math.abs(y[i] - odd[i]) / Math.abs(odd[i])).toBeLessThan(2 ** -10);
    expect(Array.from(y.subarray(6))).toEqual([0, 0, 0]);
  });

  it('none is the f32 bytes, bit for bit', () => {
    const y = decodeRows('none', encodeRows('none', x, rows, cols), rows, cols);
    expect(y).toEqual(x);
  });

  it('names the shape at fault', () => {
    expect(() => encodeRows('int8', new Float32Array(10), 3, 3)).toThrow(
      'encodeRows(int8): 10 values are not a (3, 3) tensor',
    );
    expect(() => decodeRows('fp16', new Uint8Array(18), 2, 3)).toThrow(
      'decodeRows(fp16): 18 bytes for a (2, 3) tensor, need 20',
    );
  });
});
