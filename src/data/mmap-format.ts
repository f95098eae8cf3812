// Megatron/GPT-NeoX "mmap" indexed datasets: `<prefix>.bin` holds every sequence's tokens back
// to back; `<prefix>.idx` is, all little-endian:
//
//   9 bytes  magic "MMIDIDX\0\0"        8 bytes  version (u64) = 1        1 byte  dtype code
//   u64 sequence count N                u64 document-index entries D
//   N × i32 sizes (tokens per sequence)
//   N × i64 pointers (byte offset of each sequence in .bin: running sum of sizes × item size)
//   D × i64 doc_idx (sequence index where each document starts; [0, ..., N])
//   [N × i8 sequence modes: Megatron-LM's multimodal datasets only]
//
// Dtype codes 1–5 and 8 mean the same in both writers; 6 and 7 are swapped: GPT-NeoX
// (megatron/data/indexed_dataset.py) has 6 = float32 and 7 = float64, Megatron-LM
// (megatron/core/datasets/indexed_dataset.py DType) 6 = float64 and 7 = float32. Token files
// are integers, so 6 and 7 are refused, naming both meanings and what the file sizes say.

export const MAGIC = Uint8Array.of(0x4d, 0x4d, 0x49, 0x44, 0x49, 0x44, 0x58, 0x00, 0x00);
export const HEADER_BYTES = 34;

export type TokenDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint16';

const INTEGER_CODES: Record<number, { dtype: TokenDtype; itemSize: number }> = {
  1: { dtype: 'uint8', itemSize: 1 },
  2: { dtype: 'int8', itemSize: 1 },
  3: { dtype: 'int16', itemSize: 2 },
  4: { dtype: 'int32', itemSize: 4 },
  5: { dtype: 'int64', itemSize: 8 },
  8: { dtype: 'uint16', itemSize: 2 },
};

export const DTYPE_CODES: Record<TokenDtype, number> = {
  uint8: 1,
  int8: 2,
  int16: 3,
  int32: 4,
  int64: 5,
  uint16: 8,
};

export class DataFormatError extends Error {
  override name = 'DataFormatError';
}

export interface IndexHeader {
  dtype: TokenDtype;
  itemSize: number;
  /** N: sequences (sizes and pointers entries) */
  sequences: number;
  /** D: doc_idx entries (documents + 1) */
  docIdxEntries: number;
}

/** Bytes an .idx with this header takes, without and with Megatron-LM's sequence modes. */
export function indexBytes(h: { sequences: number; docIdxEntries: number }): { plain: number; withModes: number } {
  const plain = HEADER_BYTES + h.sequences * 12 + h.docIdxEntries * 8;
  return { plain, withModes: plain + h.sequences };
}

function u64(view: DataView, at: number, file: string, what: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new DataFormatError(`${file}: ${what} ${v} is not a plausible count`);
  return Number(v);
}

/** Reads the 34-byte header of an .idx file. `binBytes` (the .bin's size) only sharpens the dtype 6/7 message. */
export function parseIndexHeader(bytes: Uint8Array, file: string, binBytes?: number): IndexHeader {
  if (bytes.length < HEADER_BYTES)
    throw new DataFormatError(
      `${file} is truncated: an index header takes ${HEADER_BYTES} bytes, the file has ${bytes.length}`,
    );
  for (let i = 0; i < MAGIC.length; i++)
    if (bytes[i] !== MAGIC[i]) {
      const got = [...bytes.subarray(0, 9)].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
      throw new DataFormatError(
        `${file} is not a Megatron/NeoX mmap index: it starts with "${got}", not "MMIDIDX" (a .idx written with --dataset-impl mmap)`,
      );
    }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getBigUint64(9, true);
  if (version !== 1n) throw new DataFormatError(`${file}: index version ${version} is not supported (only 1)`);
  const code = bytes[17];
  const sequences = u64(view, 18, file, 'sequence count');
  const docIdxEntries = u64(view, 26, file, 'document index length');
  const known = INTEGER_CODES[code];
  if (!known) throw new DataFormatError(dtypeProblem(file, code, sequences, binBytes));
  return { ...known, sequences, docIdxEntries };
}

function dtypeProblem(file: string, code: number, sequences: number, binBytes?: number): string {
  if (code !== 6 && code !== 7)
    return `${file}: dtype code ${code} is unknown (GPT-NeoX and Megatron-LM use 1–8; token files are uint16 (8) or int32 (4))`;
  const neox = code === 6 ? 'float32' : 'float64';
  const megatron = code === 6 ? 'float64' : 'float32';
  const hint =
    binBytes !== undefined && sequences > 0 ? ` (the .bin holds ${binBytes} bytes for ${sequences} sequences)` : '';
  return `${file}: dtype code ${code} means ${neox} in GPT-NeoX's writer but ${megatron} in Megatron-LM's${hint}; token datasets must hold integer token ids (uint16 or int32), so tokenize again with tabtron preprocess or NeoX's tools/datasets/preprocess_data.py`;
}

export interface IndexTables extends IndexHeader {
  sizes: Int32Array;
  /** doc_idx as numbers */
  docIdx: Float64Array;
  /** total tokens (sum of sizes) */
  tokens: number;
}

function copyInt32(bytes: Uint8Array, at: number, n: number): Int32Array {
  return new Int32Array(bytes.slice(at, at + n * 4).buffer);
}

function copyInt64(bytes: Uint8Array, at: number, n: number): BigInt64Array {
  return new BigInt64Array(bytes.slice(at, at + n * 8).buffer);
}

/** The sizes table alone (what a rank needs), from the bytes that follow the header. */
export function parseSizes(bytes: Uint8Array, h: IndexHeader, file: string): Int32Array {
  if (bytes.length < h.sequences * 4)
    throw new DataFormatError(`${file} is truncated: ${h.sequences} sizes need ${h.sequences * 4} bytes`);
  return copyInt32(bytes, 0, h.sequences);
}

/**
 * The whole .idx, checked for consistency: its length, sizes ≥ 0, pointers equal to the running
 * sum of sizes × item size, doc_idx starting at 0, never decreasing and ending at N, and (when
 * `binBytes` is given) a .bin of exactly sum(sizes) × item size bytes.
 */
export function parseIndex(bytes: Uint8Array, file: string, binBytes?: number, binFile = 'the .bin'): IndexTables {
  const h = parseIndexHeader(bytes, file, binBytes);
  const need = indexBytes(h);
  if (bytes.length !== need.plain && bytes.length !== need.withModes) {
    const what = `its header says ${h.sequences} sequences and ${h.docIdxEntries} document-index entries, which take ${need.plain} bytes`;
    throw new DataFormatError(
      bytes.length < need.plain
        ? `${file} is truncated: ${what}, but the file has ${bytes.length}`
        : `${file} is inconsistent: ${what} (or ${need.withModes} with Megatron-LM's sequence modes), but the file has ${bytes.length}`,
    );
  }
  const sizes = copyInt32(bytes, HEADER_BYTES, h.sequences);
  const pointers = copyInt64(bytes, HEADER_BYTES + h.sequences * 4, h.sequences);
  const rawDocIdx = copyInt64(bytes, HEADER_BYTES + h.sequences * 12, h.docIdxEntries);
  let tokens = 0;
  for (let i = 0; i < h.sequences; i++) {
    if (sizes[i] < 0) throw new DataFormatError(`${file} is inconsistent: sequence ${i} has size ${sizes[i]}`);
    if (pointers[i] !== BigInt(tokens * h.itemSize))
      throw new DataFormatError(
        `${file} is inconsistent: the pointer of sequence ${i} is ${pointers[i]}, but the sizes before it put it at byte ${tokens * h.itemSize}`,
      );
    tokens += sizes[i];
  }
  const docIdx = Float64Array.from(rawDocIdx, Number);
  const docProblem =
    h.docIdxEntries === 0
      ? 'doc_idx is empty (it must start with 0)'
      : docIdx[0] !== 0
        ? `doc_idx starts at ${docIdx[0]}, not 0`
        : docIdx[docIdx.length - 1] !== h.sequences
          ? `doc_idx ends at ${docIdx[docIdx.length - 1]}, not at the sequence count ${h.sequences}`
          : null;
  if (docProblem) throw new DataFormatError(`${file} is inconsistent: ${docProblem}`);
  for (let i = 1; i < docIdx.length; i++)
    if (docIdx[i] < docIdx[i - 1])
      throw new DataFormatError(
        `${file} is inconsistent: doc_idx decreases at entry ${i} (${docIdx[i - 1]} then ${docIdx[i]})`,
      );
  if (binBytes !== undefined && binBytes !== tokens * h.itemSize)
    throw new DataFormatError(
      binBytes < tokens * h.itemSize
        ? `${binFile} is truncated: ${file} describes ${tokens} ${h.dtype} tokens (${tokens * h.itemSize} bytes), the file has ${binBytes}`
        : `${binFile} is inconsistent: ${file} describes ${tokens} ${h.dtype} tokens (${tokens * h.itemSize} bytes), the file has ${binBytes}`,
    );
  return { ...h, sizes, docIdx, tokens };
}

/** The .idx bytes for sequences of these sizes (what NeoX's MMapIndexedDatasetBuilder.finalize writes). */
export function encodeIndex(dtype: TokenDtype, sizes: ArrayLike<number>, docIdx: ArrayLike<number>): Uint8Array {
  const n = sizes.length,
    d = docIdx.length;
  const out = new Uint8Array(indexBytes({ sequences: n, docIdxEntries: d }).plain);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setBigUint64(9, 1n, true);
  out[17] = DTYPE_CODES[dtype];
  view.setBigUint64(18, BigInt(n), true);
  view.setBigUint64(26, BigInt(d), true);
  const itemSize = INTEGER_CODES[DTYPE_CODES[dtype]].itemSize;
  let at = HEADER_BYTES;
  for (let i = 0; i < n; i++, at += 4) view.setInt32(at, sizes[i], true);
  let pointer = 0;
  for (let i = 0; i < n; i++, at += 8) {
    view.setBigInt64(at, BigInt(pointer), true);
    pointer += sizes[i] * itemSize;
  }
  for (let i = 0; i < d; i++, at += 8) view.setBigInt64(at, BigInt(docIdx[i]), true);
  return out;
}

export const itemSizeOf = (dtype: TokenDtype): number => INTEGER_CODES[DTYPE_CODES[dtype]].itemSize;

/** NeoX's __best_fitting_dtype: uint16 below 65500 ids, else int32. */
export const bestDtype = (vocabSize: number): TokenDtype => (vocabSize < 65500 ? 'uint16' : 'int32');

/** Token ids from raw .bin bytes of this dtype (little-endian, as every platform here). */
export function decodeTokens(bytes: Uint8Array, dtype: TokenDtype): Int32Array | Float64Array {
  const size = itemSizeOf(dtype);
  const n = bytes.byteLength / size;
  const b = bytes.byteOffset % size === 0 ? bytes : bytes.slice();
  if (dtype === 'int64') return Float64Array.from(new BigInt64Array(b.buffer, b.byteOffset, n), Number);
  if (dtype === 'int32') return new Int32Array(b.buffer, b.byteOffset, n).slice();
  const Typed = { uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array }[dtype];
  const out = new Int32Array(n);
  out.set(new Typed(b.buffer as ArrayBuffer, b.byteOffset, n));
  return out;
}
