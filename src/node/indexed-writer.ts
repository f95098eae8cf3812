// Writes a Megatron/NeoX mmap indexed dataset as NeoX's MMapIndexedDatasetBuilder does: token
// ids appended to <prefix>.bin as they come (streamed, with backpressure), one size per
// sequence, end_document() after each document, and <prefix>.idx written at finalize().

import { createWriteStream, type WriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { encodeIndex, itemSizeOf, type TokenDtype } from '../data/mmap-format';

const LIMITS: Record<TokenDtype, [number, number]> = {
  uint8: [0, 255],
  int8: [-128, 127],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
};

function toBytes(ids: ArrayLike<number>, dtype: TokenDtype): Uint8Array {
  const n = ids.length;
  const [lo, hi] = LIMITS[dtype];
  for (let i = 0; i < n; i++)
    if (!Number.isInteger(ids[i]) || ids[i] < lo || ids[i] > hi)
      throw new Error(`token id ${ids[i]} does not fit the dataset's ${dtype} tokens`);
  if (dtype === 'int64') return new Uint8Array(BigInt64Array.from(Array.from(ids), BigInt).buffer);
  const Typed = { uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array }[
    dtype
  ];
  const out = new Typed(n);
  out.set(ids);
  return new Uint8Array(out.buffer);
}

export class IndexedDatasetWriter {
  private readonly bin: WriteStream;
  private sizes: number[] = [];
  private readonly docIdx: number[] = [0];
  private failed: Error | null = null;
  tokens = 0;

  constructor(
    readonly prefix: string,
    readonly dtype: TokenDtype,
  ) {
    this.bin = createWriteStream(`${prefix}.bin`);
    this.bin.on('error', (e) => (this.failed = e));
  }

  /** Appends one sequence; resolves once the stream can take more. */
  async add(ids: ArrayLike<number>): Promise<void> {
    if (this.failed) throw this.failed;
    const ok = this.bin.write(toBytes(ids, this.dtype));
    this.sizes.push(ids.length);
    this.tokens += ids.length;
    if (!ok) await new Promise<void>((r) => this.bin.once('drain', r));
  }

  endDocument(): void {
    this.docIdx.push(this.sizes.length);
  }

  get documents(): number {
    return this.docIdx.length - 1;
  }

  get bytes(): number {
    return this.tokens * itemSizeOf(this.dtype);
  }

  async finalize(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.bin.end((e?: Error | null) => (e ? reject(e) : resolve())));
    if (this.failed) throw this.failed;
    await writeFile(`${this.prefix}.idx`, encodeIndex(this.dtype, this.sizes, this.docIdx));
  }
}
