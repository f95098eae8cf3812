// A run's dataset on the coordinator's disk: the files its config names (data_path, or
// train/valid/test_data_paths), relative paths from the coordinator's working directory as NeoX
// resolves them. Indexed datasets are checked whole when the run is created (every table of the
// .idx against the .bin's size) and then served by byte range, read from disk per request; a text
// data_path is tokenized here once with the run's tokenizer and served as int32 tokens.
// Each file has a `version` (a digest of its identity: .idx contents, .bin size and mtime, or
// the text's size and mtime and the tokenizer): a tab keys its cache by it, and a file that
// changes on disk after the run started is refused instead of served.

import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dataPaths, type DataConfig } from '../src/data/data-config';
import { parseIndex } from '../src/data/mmap-format';
import { getTokenizer } from '../src/data/tokenizer';
import { locateData } from '../src/node/data-files';
import type { DataFileInfo, DataManifest, DataPart } from '../src/data/http-files';
import { HttpError, badRequest } from './errors';
import type { Run } from './store';

interface Served {
  info: DataFileInfo;
  /** on-disk files and their stat at check time */
  disk: { part: DataPart; path: string; size: number; mtimeMs: number }[];
  /** a text file's tokens (little-endian int32) */
  tokens?: Uint8Array;
}

const stamp = (path: string) => {
  const s = statSync(path);
  return { size: s.size, mtimeMs: s.mtimeMs };
};

function serveFile(path: string, id: number, config: DataConfig): Served {
  let where: ReturnType<typeof locateData>;
  try {
    where = locateData(path);
  } catch (e) {
    throw badRequest('invalid_data', (e as Error).message);
  }
  if (where.kind === 'indexed') {
    const idxPath = `${where.full}.idx`,
      binPath = `${where.full}.bin`;
    const idx = stamp(idxPath),
      bin = stamp(binPath);
    const idxBytes = new Uint8Array(readFileSync(idxPath));
    let t: ReturnType<typeof parseIndex>;
    try {
      t = parseIndex(idxBytes, `${path}.idx`, bin.size, `${path}.bin`);
    } catch (e) {
      throw badRequest('invalid_data', (e as Error).message);
    }
    const version = createHash('sha256')
      .update(idxBytes)
      .update(`${bin.size}:${bin.mtimeMs}`)
      .digest('hex')
      .slice(0, 32);
    return {
      info: {
        id,
        path,
        kind: 'indexed',
        version,
        dtype: t.dtype,
        sequences: t.sequences,
        documents: t.docIdxEntries - 1,
        tokens: t.tokens,
        parts: { idx: idx.size, bin: bin.size },
      },
      disk: [
        { part: 'idx', path: idxPath, ...idx },
        { part: 'bin', path: binPath, ...bin },
      ],
    };
  }
  if (path === config.data_path && config.train_data_paths)
    throw badRequest('invalid_data', `data path ${path} is a text file; train/valid/test_data_paths must be indexed`);
  const tokenizer = getTokenizer(config.tokenizer_type);
  const s = stamp(where.full);
  const ids = Int32Array.from(tokenizer.encode(readFileSync(where.full, 'utf8')));
  const tokens = new Uint8Array(ids.buffer);
  const version = createHash('sha256')
    .update(`${path}:${s.size}:${s.mtimeMs}:${tokenizer.name}`)
    .digest('hex')
    .slice(0, 32);
  return {
    info: {
      id,
      path,
      kind: 'text',
      version,
      tokenizer: tokenizer.name,
      tokens: ids.length,
      parts: { tokens: tokens.length },
    },
    disk: [{ part: 'tokens', path: where.full, ...s }],
    tokens,
  };
}

/** Every run's served data, checked once per run. */
export class RunData {
  private readonly runs = new Map<string, Served[]>();

  /** Checks a config's data files (HTTP 400 naming the file and the fault); throws nothing without data paths. */
  static check(config: Record<string, unknown>): void {
    const c = config as unknown as DataConfig;
    dataPaths(c).forEach((p, i) => {
      let kind: 'indexed' | 'text';
      try {
        kind = locateData(p).kind;
      } catch (e) {
        throw badRequest('invalid_data', (e as Error).message);
      }
      if (kind === 'indexed' || c.train_data_paths) serveFile(p, i, c); // text is tokenized when first served
    });
  }

  private served(run: Run): Served[] {
    let s = this.runs.get(run.id);
    if (!s) {
      const c = run.config as unknown as DataConfig;
      this.runs.set(run.id, (s = dataPaths(c).map((p, i) => serveFile(p, i, c))));
    }
    return s;
  }

  manifest(run: Run): DataManifest {
    return { runId: run.id, files: this.served(run).map((s) => s.info) };
  }

  /** The bytes of `ranges` of one part of one file, concatenated. */
  async read(run: Run, file: number, part: DataPart, ranges: [number, number][]): Promise<Uint8Array> {
    const s = this.served(run)[file];
    if (!s) throw new HttpError(404, 'no_data_file', `run ${run.id} serves no data file ${file}`);
    const disk = s.disk.find((d) => d.part === part);
    const size = s.info.parts[part];
    if (!disk || size === undefined)
      throw badRequest('invalid_request', `${s.info.path} (${s.info.kind}) has no part "${part}"`);
    for (const [offset, length] of ranges)
      if (offset + length > size)
        throw badRequest(
          'out_of_range',
          `${s.info.path} ${part}: bytes ${offset}..${offset + length} are past its end (${size} bytes)`,
        );
    const now = stamp(disk.path);
    if (now.size !== disk.size || now.mtimeMs !== disk.mtimeMs)
      throw new HttpError(
        409,
        'data_changed',
        `${disk.path} changed on the coordinator's disk after run ${run.id} started; restart the run to use the new data`,
      );
    const total = ranges.reduce((a, [, n]) => a + n, 0);
    const out = new Uint8Array(total);
    if (s.tokens) {
      let at = 0;
      for (const [offset, length] of ranges) {
        out.set(s.tokens.subarray(offset, offset + length), at);
        at += length;
      }
      return out;
    }
    const fh = await open(disk.path, 'r');
    try {
      let at = 0;
      for (const [offset, length] of ranges) {
        let done = 0;
        while (done < length) {
          const { bytesRead } = await fh.read(out, at + done, length - done, offset + done);
          if (bytesRead === 0) throw new HttpError(409, 'data_changed', `${disk.path} ended early while being read`);
          done += bytesRead;
        }
        at += length;
      }
    } finally {
      await fh.close();
    }
    return out;
  }
}
