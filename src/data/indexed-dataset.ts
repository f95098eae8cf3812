// One Megatron/NeoX mmap indexed dataset (`<prefix>.idx` + `<prefix>.bin`) opened over byte
// sources: the index's sizes are read whole (4 bytes a sequence), token data only as pieces
// of sequences are asked for. `verify` reads the whole .idx and checks every table against
// the .bin's size (the CLI and the coordinator do; a tab trusts the coordinator's check and
// reads the header and the sizes only).

import { checkRanges, readRange, type ByteRange, type ByteSource } from './byte-source';
import type { Piece } from './neox-indices';
import {
  DataFormatError,
  HEADER_BYTES,
  decodeTokens,
  parseIndex,
  parseIndexHeader,
  parseSizes,
  type IndexHeader,
  type TokenDtype,
} from './mmap-format';

export interface IndexedFiles {
  idx: ByteSource;
  bin: ByteSource;
}

export class IndexedDataset {
  /** byte offset of each sequence in .bin (running sum of sizes × item size), N + 1 entries */
  readonly pointers: Float64Array;
  readonly tokens: number;

  private constructor(
    readonly prefix: string,
    readonly files: IndexedFiles,
    readonly header: IndexHeader,
    readonly sizes: Int32Array,
    /** doc_idx of the .idx (only when opened with verify) */
    readonly docIdx: Float64Array | null,
  ) {
    this.pointers = new Float64Array(sizes.length + 1);
    for (let i = 0; i < sizes.length; i++) this.pointers[i + 1] = this.pointers[i] + sizes[i] * header.itemSize;
    this.tokens = this.pointers[sizes.length] / header.itemSize;
  }

  static async open(prefix: string, files: IndexedFiles, o: { verify?: boolean } = {}): Promise<IndexedDataset> {
    const { idx, bin } = files;
    if (o.verify) {
      const t = parseIndex(await readRange(idx, 0, idx.size), idx.name, bin.size, bin.name);
      return new IndexedDataset(prefix, files, t, t.sizes, t.docIdx);
    }
    if (idx.size < HEADER_BYTES) parseIndexHeader(new Uint8Array(idx.size), idx.name); // throws: truncated
    const header = parseIndexHeader(await readRange(idx, 0, HEADER_BYTES), idx.name, bin.size);
    checkRanges(idx, [{ offset: HEADER_BYTES, length: header.sequences * 12 + header.docIdxEntries * 8 }]);
    const sizes = parseSizes(await readRange(idx, HEADER_BYTES, header.sequences * 4), header, idx.name);
    const ds = new IndexedDataset(prefix, files, header, sizes, null);
    const want = ds.tokens * header.itemSize;
    if (bin.size !== want)
      throw new DataFormatError(
        `${bin.name} is ${bin.size < want ? 'truncated' : 'inconsistent'}: ${idx.name} describes ${ds.tokens} ${header.dtype} tokens (${want} bytes), the file has ${bin.size}`,
      );
    return ds;
  }

  get dtype(): TokenDtype {
    return this.header.dtype;
  }

  get sequences(): number {
    return this.sizes.length;
  }

  /** The .bin bytes of a piece. */
  range(p: Piece): ByteRange {
    if (p.seq < 0 || p.seq >= this.sizes.length || p.offset < 0 || p.offset + p.count > this.sizes[p.seq])
      throw new Error(
        `${this.prefix}: tokens ${p.offset}..${p.offset + p.count} of sequence ${p.seq} are outside the dataset`,
      );
    const size = this.header.itemSize;
    return { offset: this.pointers[p.seq] + p.offset * size, length: p.count * size };
  }

  /** Tokens of each piece, in order, fetched together. */
  async read(pieces: readonly Piece[]): Promise<(Int32Array | Float64Array)[]> {
    const bytes = await this.files.bin.readMany(pieces.map((p) => this.range(p)));
    return bytes.map((b) => decodeTokens(b, this.header.dtype));
  }
}
