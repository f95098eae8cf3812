// Mixed precision's 16-bit tensors on the wire: plain fp16 or bf16, two bytes per value
// (u16 little-endian), rounded to nearest with ties to even. Unlike pipe_compression's fp16
// rows there is no per-row scale: fp16 keeps its range (|x| > 65504 becomes ±Inf, which is
// what loss scaling watches for), bf16 keeps f32's range with 8 significant bits.
import type { HalfFormat } from '../../train/precision';
import { halfTable, toHalfBits } from './half';
import type { WireCodec } from './wire-codec';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The bf16 bit pattern nearest to `x` (NaN stays a quiet NaN). */
export function toBf16Bits(x: number): number {
  f32[0] = x;
  const bits = u32[0];
  if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) return ((bits >>> 16) & 0x8000) | 0x7fc0;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

export function fromBf16Bits(h: number): number {
  u32[0] = (h & 0xffff) << 16;
  return f32[0];
}

/** x → 2·n bytes (a buffer of its own). */
export function encodeHalf(format: HalfFormat, x: Float32Array): Uint8Array {
  const out = new Uint16Array(x.length);
  if (format === 'fp16') for (let i = 0; i < x.length; i++) out[i] = toHalfBits(x[i]);
  else {
    const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
    for (let i = 0; i < x.length; i++) {
      const b = bits[i];
      out[i] =
        (b & 0x7f800000) === 0x7f800000 && b & 0x7fffff
          ? ((b >>> 16) & 0x8000) | 0x7fc0
          : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
    }
  }
  return new Uint8Array(out.buffer);
}

/** 2·n bytes → n f32 values. */
export function decodeHalf(format: HalfFormat, bytes: Uint8Array, n: number): Float32Array {
  if (bytes.byteLength !== 2 * n) throw new Error(`${format} wire: ${bytes.byteLength} bytes for ${n} values`);
  const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
  const h = new Uint16Array(aligned.buffer, aligned.byteOffset, n);
  const out = new Float32Array(n);
  if (format === 'fp16') {
    const table = halfTable();
    for (let i = 0; i < n; i++) out[i] = table[h[i]];
  } else {
    const bits = new Uint32Array(out.buffer);
    for (let i = 0; i < n; i++) bits[i] = h[i] << 16;
  }
  return out;
}

/** The same as a WireCodec, for compressedAllReduce (tensor-parallel sums). */
export function halfCodec(format: HalfFormat): WireCodec {
  return {
    name: format,
    bytes: (n) => 2 * n,
    encode: (x) => encodeHalf(format, x),
    decode: (bytes, n) => decodeHalf(format, bytes, n),
  };
}
