// Random access to a file's bytes wherever it lives: local disk (Node), the coordinator over
// HTTP (tabs), or memory. A rank reads only the ranges its samples cover.

export interface ByteRange {
  offset: number;
  length: number;
}

export interface ByteSource {
  /** the file, for messages (a path, or the coordinator's name for it) */
  readonly name: string;
  readonly size: number;
  /** The bytes of each range, in order (an HTTP source fetches them in one request). */
  readMany(ranges: readonly ByteRange[]): Promise<Uint8Array[]>;
}

export async function readRange(src: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  return (await src.readMany([{ offset, length }]))[0];
}

/** Ranges past the end of the file are a truncated file: say which. */
export function checkRanges(src: { name: string; size: number }, ranges: readonly ByteRange[]): void {
  for (const r of ranges)
    if (r.offset < 0 || r.length < 0 || r.offset + r.length > src.size)
      throw new Error(
        `${src.name}: bytes ${r.offset}..${r.offset + r.length} are past its end (${src.size} bytes); is the file truncated?`,
      );
}

export function memorySource(name: string, bytes: Uint8Array): ByteSource {
  return {
    name,
    size: bytes.length,
    async readMany(ranges) {
      checkRanges(this, ranges);
      return ranges.map((r) => bytes.subarray(r.offset, r.offset + r.length));
    },
  };
}
