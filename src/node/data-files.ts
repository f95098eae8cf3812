// Data files on this machine's disk (Node): indexed datasets read by byte range through a file
// handle (a 1 GB .bin is never loaded whole), text files read and tokenized here. Relative paths
// resolve against `baseDir` (default: the working directory, as NeoX resolves them).

import { existsSync, statSync } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { checkRanges, type ByteSource } from '../data/byte-source';
import type { DataFiles } from '../data/data-files';
import { tokensInMemory } from '../data/dataset';

/** A file read by ranges (opened for each batch of ranges, so nothing stays open). */
export function fileSource(path: string, name = path): ByteSource {
  const size = statSync(path).size;
  return {
    name,
    size,
    async readMany(ranges) {
      checkRanges(this, ranges);
      const fh = await open(path, 'r');
      try {
        return await Promise.all(ranges.map((r) => readFully(fh, r.offset, r.length, name)));
      } finally {
        await fh.close();
      }
    },
  };
}

async function readFully(fh: FileHandle, offset: number, length: number, name: string): Promise<Uint8Array> {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(out, done, length - done, offset + done);
    if (bytesRead === 0) throw new Error(`${name}: the file ended at byte ${offset + done} (did it shrink?)`);
    done += bytesRead;
  }
  return out;
}

export function missingDataMessage(path: string, full: string): string {
  const bare = full.replace(/\.(bin|idx)$/, '');
  if (bare !== full && existsSync(`${bare}.idx`) && existsSync(`${bare}.bin`))
    return `data path ${path}: name the dataset by its prefix, without .bin/.idx (${path.replace(/\.(bin|idx)$/, '')})`;
  if (existsSync(`${full}.idx`) !== existsSync(`${full}.bin`))
    return `data path ${path}: found ${existsSync(`${full}.idx`) ? `${full}.idx but not ${full}.bin` : `${full}.bin but not ${full}.idx`}; an indexed dataset needs both`;
  return `data path ${path}: neither an indexed dataset (${full}.idx + ${full}.bin) nor a text file exists there`;
}

/** Where a config path is on disk, and what it is. */
export function locateData(path: string, baseDir = process.cwd()): { full: string; kind: 'indexed' | 'text' } {
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  if (existsSync(`${full}.idx`) && existsSync(`${full}.bin`)) return { full, kind: 'indexed' };
  if (existsSync(full) && statSync(full).isFile() && !/\.(bin|idx)$/.test(full)) return { full, kind: 'text' };
  throw new Error(missingDataMessage(path, full));
}

export function nodeDataFiles(baseDir = process.cwd(), o: { verify?: boolean } = {}): DataFiles {
  return {
    verify: o.verify ?? true,
    async kind(path) {
      return locateData(path, baseDir).kind;
    },
    async indexed(prefix) {
      const { full, kind } = locateData(prefix, baseDir);
      if (kind !== 'indexed') throw new Error(`data path ${prefix} is a text file, not an indexed dataset prefix`);
      return { idx: fileSource(`${full}.idx`), bin: fileSource(`${full}.bin`) };
    },
    async textTokens(path, tokenizer) {
      const tokens = Int32Array.from(tokenizer.encode(await readFile(locateData(path, baseDir).full, 'utf8')));
      return { numTokens: tokens.length, read: tokensInMemory(tokens) };
    },
  };
}
