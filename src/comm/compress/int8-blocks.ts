// int8 quantisation with one f32 scale per block of `blockSize` values (the last block may be
// shorter): scale = max|x| / 127 over the block, q = round(x / scale) in [-127, 127], so
// |x − q·scale| ≤ scale / 2. A block of zeros has scale 0; a block holding NaN or ±Infinity
// gets a NaN scale, so its values come back NaN (a diverged run stays visibly diverged).
//
// Wire layout of n values: the f32 scales (⌈n / blockSize⌉ of them, little-endian), then the
// n int8 values: int8Bytes(n, blockSize) = 4·⌈n / blockSize⌉ + n bytes.

export const INT8_MAX = 127;

export function blockCount(n: number, blockSize: number): number {
  return Math.ceil(n / blockSize);
}

export function int8Bytes(n: number, blockSize: number): number {
  return 4 * blockCount(n, blockSize) + n;
}

function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 1)
    throw new Error(`int8 blocks: block size must be a positive integer, got ${blockSize}`);
}

/** x (n values) → wire bytes. `out`, if given, must hold int8Bytes(n, blockSize) bytes. */
export function encodeInt8Blocks(x: Float32Array, blockSize: number, out?: Uint8Array): Uint8Array {
  checkBlockSize(blockSize);
  const n = x.length;
  const nb = blockCount(n, blockSize);
  const bytes = out ?? new Uint8Array(int8Bytes(n, blockSize));
  if (bytes.byteLength !== int8Bytes(n, blockSize))
    throw new Error(
      `encodeInt8Blocks: ${bytes.byteLength}-byte buffer for ${n} values, need ${int8Bytes(n, blockSize)}`,
    );
  const scales = new DataView(bytes.buffer, bytes.byteOffset, 4 * nb);
  const q = new Int8Array(bytes.buffer, bytes.byteOffset + 4 * nb, n);
  for (let b = 0; b < nb; b++) {
    const start = b * blockSize;
    const end = Math.min(n, start + blockSize);
    let max = 0;
    for (let i = start; i < end; i++) {
      const a = Math.abs(x[i]);
      if (!(a <= max)) max = a; // NaN lands here too, and stays
    }
    const scale = Number.isFinite(max) ? Math.fround(max / INT8_MAX) : Number.NaN;
    scales.setFloat32(4 * b, scale, true);
    if (!(scale > 0)) {
      q.fill(0, start, end);
      continue;
    }
    const inv = 1 / scale;
    for (let i = start; i < end; i++) {
      const v = Math.round(x[i] * inv);
      q[i] = Math.min(INT8_MAX, Math.max(-INT8_MAX, v));
    }
  }
  return bytes;
}

/** Wire bytes of n values → the values (into `out` when given). */
export function decodeInt8Blocks(bytes: Uint8Array, n: number, blockSize: number, out?: Float32Array): Float32Array {
  checkBlockSize(blockSize);
  if (bytes.byteLength !== int8Bytes(n, blockSize))
    throw new Error(
      `decodeInt8Blocks: ${bytes.byteLength} bytes cannot hold ${n} values (need ${int8Bytes(n, blockSize)})`,
    );
  const nb = blockCount(n, blockSize);
  const scales = new DataView(bytes.buffer, bytes.byteOffset, 4 * nb);
  const q = new Int8Array(bytes.buffer, bytes.byteOffset + 4 * nb, n);
  const x = out ?? new Float32Array(n);
  for (let b = 0; b < nb; b++) {
    const scale = scales.getFloat32(4 * b, true);
    const end = Math.min(n, (b + 1) * blockSize);
    for (let i = b * blockSize; i < end; i++) x[i] = q[i] * scale;
  }
  return x;
}
