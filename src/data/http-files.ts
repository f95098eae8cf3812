// A run's data files through the coordinator's data API (coordinator/data-routes.ts), for tabs:
//
//   GET  /api/runs/:id/data        the manifest: each file the config names, its kind, size, version
//   POST /api/runs/:id/data/read   {file, part, ranges: [[offset, length], ...]} → the ranges' bytes,
//                                  concatenated; x-tabtron-sha256: SHA-256 of the body
//
// A rank asks only for the ranges its samples cover (many in one request), checks each answer
// against its SHA-256, and keeps the ranges in IndexedDB (src/data/range-cache.ts) under the
// file's version, so a reloaded tab reads them from its cache.

import { sha256Hex } from '../checkpoint/sha256';
import { checkRanges, type ByteRange, type ByteSource } from './byte-source';
import type { DataAuth, DataFiles, DataSource } from './data-files';
import type { TokenDtype } from './mmap-format';
import { openRangeCache, type RangeCache } from './range-cache';

export type DataPart = 'idx' | 'bin' | 'tokens';

export type DataFileInfo = {
  id: number;
  /** the path as the config writes it */
  path: string;
  version: string;
  /** bytes of each part */
  parts: Partial<Record<DataPart, number>>;
  tokens: number;
} & (
  | { kind: 'indexed'; dtype: TokenDtype; sequences: number; documents: number }
  | { kind: 'text'; tokenizer: string }
);

export interface DataManifest {
  runId: string;
  files: DataFileInfo[];
}

export const DATA_SHA256_HEADER = 'x-tabtron-sha256';
/** most bytes one read request may ask for */
export const MAX_READ_BYTES = 16 * 2 ** 20;
/** most ranges one read request may ask for */
export const MAX_READ_RANGES = 4096;

export function authHeaders(auth: DataAuth): Record<string, string> {
  return 'adminToken' in auth
    ? { authorization: `Bearer ${auth.adminToken}` }
    : { 'x-tabtron-participant': auth.participantId, 'x-tabtron-secret': auth.secret };
}

type CoordinatorSource = Extract<DataSource, { kind: 'coordinator' }>;

async function failure(res: Response, what: string): Promise<Error> {
  let message = `HTTP ${res.status}`;
  try {
    const body = (await res.json()) as { error?: { message?: string } };
    if (body.error?.message) message = body.error.message;
  } catch {
    /* not JSON */
  }
  return new Error(`${what}: ${message}`);
}

/** Groups ranges into requests of at most MAX_READ_BYTES and MAX_READ_RANGES (a longer range is split). */
export function planReads(ranges: readonly ByteRange[]): ByteRange[][] {
  const requests: ByteRange[][] = [];
  let cur: ByteRange[] = [];
  let bytes = 0;
  for (const r of ranges)
    for (let at = r.offset; at < r.offset + r.length || r.length === 0; ) {
      const length = Math.min(r.offset + r.length - at, MAX_READ_BYTES);
      if (cur.length && (bytes + length > MAX_READ_BYTES || cur.length >= MAX_READ_RANGES)) {
        requests.push(cur);
        cur = [];
        bytes = 0;
      }
      cur.push({ offset: at, length });
      bytes += length;
      at += length;
      if (length === 0) break;
    }
  if (cur.length) requests.push(cur);
  return requests;
}

function httpSource(
  src: CoordinatorSource,
  info: DataFileInfo,
  part: DataPart,
  cache: Promise<RangeCache | null>,
): ByteSource {
  const base = src.coordinatorUrl.replace(/\/$/, '');
  const name = `${info.path}${part === 'tokens' ? '' : `.${part}`} (on the coordinator)`;
  const keyOf = (r: ByteRange) => `${base}|${src.runId}|${info.version}|${part}|${r.offset}|${r.length}`;
  const fetchRanges = async (ranges: ByteRange[]): Promise<Uint8Array> => {
    const res = await fetch(`${base}/api/runs/${src.runId}/data/read`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(src.auth) },
      body: JSON.stringify({ file: info.id, part, ranges: ranges.map((r) => [r.offset, r.length]) }),
    });
    if (!res.ok) throw await failure(res, `reading ${name}`);
    const body = new Uint8Array(await res.arrayBuffer());
    const want = res.headers.get(DATA_SHA256_HEADER);
    const got = await sha256Hex(body);
    if (got !== want)
      throw new Error(
        `reading ${name}: the bytes' SHA-256 ${got} is not the coordinator's ${want} (damaged in transit)`,
      );
    const expected = ranges.reduce((a, r) => a + r.length, 0);
    if (body.length !== expected) throw new Error(`reading ${name}: got ${body.length} bytes, asked for ${expected}`);
    return body;
  };
  return {
    name,
    size: info.parts[part] ?? 0,
    async readMany(ranges) {
      checkRanges(this, ranges);
      const c = await cache;
      const out: (Uint8Array | undefined)[] = c ? await c.get(ranges.map(keyOf)) : ranges.map(() => undefined);
      const missing = [...new Map(ranges.filter((_, i) => !out[i]).map((r) => [keyOf(r), r])).values()];
      if (missing.length) {
        const got = new Map<string, Uint8Array>();
        for (const request of planReads(missing)) {
          const body = await fetchRanges(request);
          let at = 0;
          for (const r of request) {
            got.set(`${r.offset}|${r.length}`, body.subarray(at, at + r.length));
            at += r.length;
          }
        }
        // a range split over requests is put back together
        const whole = missing.map((r) => {
          const pieces = planReads([r])
            .flat()
            .map((p) => got.get(`${p.offset}|${p.length}`)!);
          if (pieces.length === 1) return pieces[0];
          const joined = new Uint8Array(r.length);
          let at = 0;
          for (const p of pieces) {
            joined.set(p, at);
            at += p.length;
          }
          return joined;
        });
        const byKey = new Map(missing.map((r, i) => [keyOf(r), whole[i]]));
        ranges.forEach((r, i) => (out[i] ??= byKey.get(keyOf(r))));
        if (c) await c.put(missing.map((r, i) => [keyOf(r), whole[i]]));
      }
      return out as Uint8Array[];
    },
  };
}

/** The run's data files as the coordinator serves them. */
export function httpDataFiles(src: CoordinatorSource, o: { cache?: boolean } = {}): DataFiles {
  const base = src.coordinatorUrl.replace(/\/$/, '');
  let manifest: Promise<DataManifest> | null = null;
  const cache = o.cache === false ? Promise.resolve(null) : openRangeCache();
  const info = async (path: string): Promise<DataFileInfo> => {
    manifest ??= fetch(`${base}/api/runs/${src.runId}/data`, { headers: authHeaders(src.auth) }).then(async (res) => {
      if (!res.ok) throw await failure(res, `the data of run ${src.runId}`);
      return (await res.json()) as DataManifest;
    });
    const f = (await manifest).files.find((x) => x.path === path);
    if (!f) throw new Error(`the coordinator serves no data path ${path} for run ${src.runId}`);
    return f;
  };
  return {
    verify: false,
    async kind(path) {
      return (await info(path)).kind;
    },
    async indexed(prefix) {
      const f = await info(prefix);
      if (f.kind !== 'indexed') throw new Error(`data path ${prefix} is a text file on the coordinator`);
      return { idx: httpSource(src, f, 'idx', cache), bin: httpSource(src, f, 'bin', cache) };
    },
    async textTokens(path, tokenizer) {
      const f = await info(path);
      if (f.kind !== 'text') throw new Error(`data path ${path} is an indexed dataset on the coordinator`);
      if (f.tokenizer !== tokenizer.name)
        throw new Error(`the coordinator tokenized ${path} with ${f.tokenizer}, not ${tokenizer.name}`);
      const tokens = httpSource(src, f, 'tokens', cache);
      return {
        numTokens: f.tokens,
        async read(start, count) {
          const [bytes] = await tokens.readMany([{ offset: start * 4, length: count * 4 }]);
          return new Int32Array(bytes.slice().buffer);
        },
      };
    },
  };
}
