// Seeded inputs for collective tests (shared by unit tests and the Chromium pages).
import { Rng } from '../util/rng';

/** Values of very different magnitudes, so that summation order changes the f32 bits. */
export function testTensor(seed: number, length: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = rng.normal() * 10 ** (rng.int(7) - 3);
  return out;
}

/** A byte pattern that differs for every (seed, index) pair, for p2p checks. */
export function testBytes(seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (x ^ (x << 13)) >>> 0;
    x = (x ^ (x >>> 17)) >>> 0;
    x = (x ^ (x << 5)) >>> 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The slice an all-gather-of-a-slice check of `length` elements moves: [5, 5 + length) of a
 *  vector of length + 9 (so the slice cuts the ring chunks at both ends). */
export function testSlice(length: number): { offset: number; total: number } {
  return { offset: 5, total: length + 9 };
}
