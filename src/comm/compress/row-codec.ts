// Pipeline activations and their gradients on the wire: a (rows, cols) f32 tensor, e.g. a
// stage's output x: (B*T, C), sent as 16 or 8 bits per value with one f32 scale per row.
//   fp16: each row is multiplied by a power of two that puts its max|x| in [2^14, 2^15), then
//         rounded to half precision: the scaling is exact, so the only error is fp16 rounding
//         (relative 2^-11), and no row overflows or drowns in subnormals whatever its range.
//   int8: scale = max|x| / 127 per row (int8-blocks.ts with one block per row).
// Wire layout: rows f32 scales, then the values (u16 little-endian or int8).

import type { PipeCodec } from '../../config/local-sgd';
import { halfTable, toHalfBits } from './half';
import { decodeInt8Blocks, encodeInt8Blocks } from './int8-blocks';

export type RowCodec = Exclude<PipeCodec, 'none'>;

export function rowCodecBytes(codec: PipeCodec, rows: number, cols: number): number {
  if (codec === 'none') return 4 * rows * cols;
  return 4 * rows + (codec === 'fp16' ? 2 : 1) * rows * cols;
}

function checkShape(what: string, length: number, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 1 || length !== rows * cols)
    throw new Error(`${what}: ${length} values are not a (${rows}, ${cols}) tensor`);
}

/** The power of two that brings max|row| into [2^14, 2^15) (1 for a zero or non-finite row). */
function rowScale(x: Float32Array, start: number, end: number): number {
  let max = 0;
  for (let i = start; i < end; i++) {
    const a = Math.abs(x[i]);
    if (!(a <= max)) max = a;
  }
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  return 2 ** (14 - Math.floor(Math.log2(max)));
}

function encodeHalfRows(x: Float32Array, rows: number, cols: number): Uint8Array {
  const bytes = new Uint8Array(rowCodecBytes('fp16', rows, cols));
  const view = new DataView(bytes.buffer);
  const halves = new Uint16Array(bytes.buffer, 4 * rows, rows * cols);
  for (let r = 0; r < rows; r++) {
    const start = r * cols;
    let s = rowScale(x, start, start + cols);
    // log2 can be off by one next to a power of two: make sure the max stays below 2^15
    for (let i = start; i < start + cols; i++) if (Math.abs(x[i]) * s >= 2 ** 15) s /= 2;
    view.setFloat32(4 * r, 1 / s, true);
    for (let i = start; i < start + cols; i++) halves[i] = toHalfBits(x[i] * s);
  }
  return bytes;
}

function decodeHalfRows(bytes: Uint8Array, rows: number, cols: number): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const view = new DataView(aligned.buffer, aligned.byteOffset, aligned.byteLength);
  const halves = new Uint16Array(aligned.buffer, aligned.byteOffset + 4 * rows, rows * cols);
  const table = halfTable();
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const inv = view.getFloat32(4 * r, true);
    for (let i = r * cols; i < (r + 1) * cols; i++) out[i] = table[halves[i]] * inv;
  }
  return out;
}

/** x: (rows, cols) → wire bytes (a buffer of its own). */
export function encodeRows(codec: PipeCodec, x: Float32Array, rows: number, cols: number): Uint8Array {
  checkShape(`encodeRows(${codec})`, x.length, rows, cols);
  if (codec === 'none') return new Uint8Array(x.slice().buffer);
  if (codec === 'int8') return encodeInt8Blocks(x, cols);
  return encodeHalfRows(x, rows, cols);
}

/** Wire bytes → x: (rows, cols). */
export function decodeRows(codec: PipeCodec, bytes: Uint8Array, rows: number, cols: number): Float32Array {
  checkShape(`decodeRows(${codec})`, rows * cols, rows, cols);
  const want = rowCodecBytes(codec, rows, cols);
  if (bytes.byteLength !== want)
    throw new Error(`decodeRows(${codec}): ${bytes.byteLength} bytes for a (${rows}, ${cols}) tensor, need ${want}`);
  if (codec === 'none') {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    return new Float32Array(aligned.buffer, aligned.byteOffset, rows * cols).slice();
  }
  if (codec === 'int8') return decodeInt8Blocks(bytes, rows * cols, cols);
  return decodeHalfRows(bytes, rows, cols);
}
