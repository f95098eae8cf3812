// `tabtron data inspect`: reads a Megatron/NeoX mmap dataset, checks the index against itself
// and the .bin (DataFormatError naming the file and what is wrong), and hashes every token in
// order as little-endian uint32, streaming the .bin in chunks.

import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { DataFormatError, itemSizeOf, parseIndex, type TokenDtype } from '../data/mmap-format';

export interface DatasetSummary {
  format: 'megatron-mmap';
  dtype: TokenDtype;
  sequences: number;
  documents: number;
  tokens: number;
  sha256_tokens_u32le: string;
}

/** The dataset prefix of `path` (a prefix, or one of its .bin/.idx files). */
export function datasetPrefix(path: string): string {
  const bare = path.replace(/\.(bin|idx)$/, '');
  if (bare !== path && !existsSync(path)) return path;
  for (const p of [path, bare]) if (existsSync(`${p}.idx`) || existsSync(`${p}.bin`)) return p;
  throw new DataFormatError(`${path}: no indexed dataset there (expected ${path}.idx and ${path}.bin)`);
}

const CHUNK_ITEMS = 1 << 22;

/** Every token as little-endian u32 (numpy's astype('<u4'): negative ids wrap, int64 keeps its low 32 bits). */
function asU32(bytes: Uint8Array, dtype: TokenDtype): Uint8Array {
  const n = bytes.length / itemSizeOf(dtype);
  const out = new Uint32Array(n);
  const b = bytes.buffer as ArrayBuffer;
  const o = bytes.byteOffset;
  if (dtype === 'int64') {
    const v = new BigInt64Array(b, o, n);
    for (let i = 0; i < n; i++) out[i] = Number(BigInt.asUintN(32, v[i]));
  } else {
    const Typed = { uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array, int32: Int32Array }[
      dtype
    ];
    out.set(new Typed(b, o, n)); // Uint32Array.set wraps negatives modulo 2**32, as numpy does
  }
  return new Uint8Array(out.buffer);
}

export async function inspectDataset(path: string): Promise<DatasetSummary> {
  const prefix = datasetPrefix(path);
  const idxFile = `${prefix}.idx`,
    binFile = `${prefix}.bin`;
  for (const f of [idxFile, binFile]) if (!existsSync(f)) throw new DataFormatError(`${f} does not exist`);
  const binBytes = statSync(binFile).size;
  const t = parseIndex(new Uint8Array(await readFile(idxFile)), idxFile, binBytes, binFile);
  const hash = createHash('sha256');
  const chunk = CHUNK_ITEMS * t.itemSize;
  const fh = await open(binFile, 'r');
  try {
    const buf = new Uint8Array(chunk);
    for (let at = 0; at < binBytes; ) {
      const want = Math.min(chunk, binBytes - at);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, at + got);
        if (bytesRead === 0) throw new DataFormatError(`${binFile} ended at byte ${at + got} while being read`);
        got += bytesRead;
      }
      hash.update(asU32(buf.subarray(0, want), t.dtype));
      at += want;
    }
  } finally {
    await fh.close();
  }
  return {
    format: 'megatron-mmap',
    dtype: t.dtype,
    sequences: t.sequences,
    documents: t.docIdxEntries - 1,
    tokens: t.tokens,
    sha256_tokens_u32le: hash.digest('hex'),
  };
}
