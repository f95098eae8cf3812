// What a compressed collective puts on the wire for a run of f32 values: `f32` (the bytes
// themselves, lossless) or `int8` (per-block scales, int8-blocks.ts). With a residual the
// int8 codec does error feedback: it encodes x + residual and leaves in the residual what the
// wire lost, so the next round sends it. Over rounds, Σ decoded = Σ x − (last residual): the
// error does not grow with the number of rounds.

import { decodeInt8Blocks, encodeInt8Blocks, int8Bytes } from './int8-blocks';

export interface WireCodec {
  readonly name: string;
  /** encoded size of n values */
  bytes(n: number): number;
  /** x (+ residual, which then holds what the wire lost) → a buffer of its own */
  encode(x: Float32Array, residual?: Float32Array): Uint8Array;
  /** n values from `bytes` (a buffer of its own) */
  decode(bytes: Uint8Array, n: number): Float32Array;
}

export const f32Codec: WireCodec = {
  name: 'f32',
  bytes: (n) => 4 * n,
  encode: (x) => new Uint8Array(x.slice().buffer),
  decode(bytes, n) {
    if (bytes.byteLength !== 4 * n) throw new Error(`f32 codec: ${bytes.byteLength} bytes for ${n} values`);
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    return new Float32Array(aligned.buffer, aligned.byteOffset, n).slice();
  },
};

export function int8Codec(blockSize: number): WireCodec {
  return {
    name: `int8/${blockSize}`,
    bytes: (n) => int8Bytes(n, blockSize),
    encode(x, residual) {
      if (!residual) return encodeInt8Blocks(x, blockSize);
      if (residual.length !== x.length)
        throw new Error(`int8 codec: residual of ${residual.length} values for ${x.length}`);
      const sent = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) sent[i] = x[i] + residual[i];
      const bytes = encodeInt8Blocks(sent, blockSize);
      const got = decodeInt8Blocks(bytes, x.length, blockSize);
      for (let i = 0; i < x.length; i++) residual[i] = sent[i] - got[i];
      return bytes;
    },
    decode: (bytes, n) => decodeInt8Blocks(bytes, n, blockSize),
  };
}

/** The codec a `local_sgd.compression` block asks for. */
export function codecFor(c: { type: 'none' | 'int8'; block_size: number }): WireCodec {
  return c.type === 'int8' ? int8Codec(c.block_size) : f32Codec;
}
