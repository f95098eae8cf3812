// CPU reference for the 16-bit packing kernels, bit for bit: the encoders the wire uses
// (comm/compress: toHalfBits, toBf16Bits) and exact decoders to f32 bit patterns.
import { toHalfBits } from '../comm/compress/half';
import { toBf16Bits } from '../comm/compress/half-wire';
import type { HalfFormat } from '../train/precision';

/** The f32 bits of an fp16 value (NaN payloads kept, as the kernel keeps them). */
export function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return (sign | 0x7f800000 | (m << 13)) >>> 0;
  if (e === 0) {
    if (m === 0) return sign >>> 0;
    const lead = 31 - Math.clz32(m); // position of the top set bit, 0..9
    return (sign | ((103 + lead) << 23) | (((m << (10 - lead)) & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** x (given as f32 bit patterns) → u32 words of packed 16-bit pairs, low half first. */
export function packHalfRef(bits: Uint32Array, format: HalfFormat): Uint32Array {
  const out = new Uint32Array(Math.ceil(bits.length / 2));
  const enc = (b: number) => {
    // NaN by its bits (a JS number may not keep a NaN's sign): quiet, sign kept
    if ((b & 0x7f800000) === 0x7f800000 && b & 0x7fffff)
      return ((b >>> 16) & 0x8000) | (format === 'fp16' ? 0x7e00 : 0x7fc0);
    u32[0] = b;
    return format === 'fp16' ? toHalfBits(f32[0]) : toBf16Bits(f32[0]);
  };
  for (let j = 0; j < bits.length; j++) out[j >> 1] |= enc(bits[j]) << (16 * (j & 1));
  return out;
}

/** Packed words → the f32 bit patterns of n values. */
export function unpackHalfRef(packed: Uint32Array, n: number, format: HalfFormat): Uint32Array {
  const out = new Uint32Array(n);
  for (let j = 0; j < n; j++) {
    const h = (packed[j >> 1] >>> (16 * (j & 1))) & 0xffff;
    out[j] = format === 'fp16' ? f16ToF32Bits(h) : (h << 16) >>> 0;
  }
  return out;
}
