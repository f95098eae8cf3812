// The data API against a real coordinator process over real HTTP: the manifest of a run's
// datasets, checksummed byte ranges read from disk, who may read, what is refused, a text
// data_path tokenized on the coordinator, and a dataset of several GB (a sparse file) read by
// a rank through httpDataFiles fetching only its samples' bytes.

import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataConfig } from '../src/data/data-config';
import { httpDataFiles, type DataManifest } from '../src/data/http-files';
import { encodeIndex } from '../src/data/mmap-format';
import { openRankData } from '../src/data/rank-data';
import { gpt2BpeTokenizer } from '../src/data/tokenizer';
import {
  ADMIN,
  RawTab,
  TINY,
  api,
  createRun,
  removeTempDirs,
  startCoordinatorProcess,
  tempDir,
  type CoordinatorProcess,
} from './test-helpers';

const root = join(import.meta.dirname, '..');
const ALPHA = 'tools/data/fixtures/alpha_text_document';
const expected = JSON.parse(readFileSync(join(root, 'tools/data/fixtures/inspect.json'), 'utf8'));
const withData = (yaml: string) => [TINY, { file: 'data.yml', text: yaml }];

let c: CoordinatorProcess;
beforeAll(async () => {
  c = await startCoordinatorProcess(tempDir());
});
afterAll(async () => {
  await c?.kill();
  removeTempDirs();
});

async function read(
  runId: string,
  body: unknown,
  headers: Record<string, string> = { authorization: `Bearer ${ADMIN}` },
) {
  const res = await fetch(`${c.url}/api/runs/${runId}/data/read`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return {
    status: res.status,
    bytes,
    sha256: res.headers.get('x-tabtron-sha256'),
    text: new TextDecoder().decode(bytes),
  };
}

describe('run data API', () => {
  it('serves the manifest and checksummed byte ranges of an indexed data_path, to the admin and participants', async () => {
    const { run, joinToken } = await createRun(c.url, withData(`data_path: ${ALPHA}\n`));
    const m = await api(c.url, 'GET', `/api/runs/${run.id}/data`);
    expect(m.status).toBe(200);
    const manifest = m.body as DataManifest;
    const want = expected.alpha_text_document;
    expect(manifest.files).toHaveLength(1);
    expect(manifest.files[0]).toMatchObject({
      id: 0,
      path: ALPHA,
      kind: 'indexed',
      dtype: 'uint16',
      sequences: want.sequences,
      documents: want.documents,
      tokens: want.tokens,
      parts: { idx: 1014, bin: want.tokens * 2 },
    });
    const bin = readFileSync(join(root, `${ALPHA}.bin`));
    const r = await read(run.id, {
      file: 0,
      part: 'bin',
      ranges: [
        [10, 6],
        [4000, 2],
        [0, 4],
      ],
    });
    expect(r.status).toBe(200);
    expect([...r.bytes]).toEqual([...bin.subarray(10, 16), ...bin.subarray(4000, 4002), ...bin.subarray(0, 4)]);
    expect(r.sha256).toBe(createHash('sha256').update(r.bytes).digest('hex'));

    const tab = await RawTab.join(c.url, run.id, joinToken);
    const mine = { 'x-tabtron-participant': tab.participantId, 'x-tabtron-secret': tab.secret };
    expect((await read(run.id, { file: 0, part: 'idx', ranges: [[0, 9]] }, mine)).text).toBe('MMIDIDX\0\0');
    const wrong = await read(run.id, { file: 0, part: 'idx', ranges: [[0, 9]] }, { ...mine, 'x-tabtron-secret': 'x' });
    expect(wrong.status).toBe(403);
    expect((await read(run.id, { file: 0, part: 'idx', ranges: [[0, 9]] }, {})).status).toBe(401);
    tab.close();
  });

  it('refuses ranges past the end, oversized reads, unknown parts and files', async () => {
    const { run } = await createRun(c.url, withData(`data_path: ${ALPHA}\n`));
    const past = await read(run.id, { file: 0, part: 'bin', ranges: [[4490, 20]] });
    expect(past.status).toBe(400);
    expect(JSON.parse(past.text).error).toEqual({
      code: 'out_of_range',
      message: `${ALPHA} bin: bytes 4490..4510 are past its end (4498 bytes)`,
    });
    const big = await read(run.id, { file: 0, part: 'bin', ranges: [[0, 17 * 2 ** 20]] });
    expect(JSON.parse(big.text).error.code).toBe('too_many_bytes');
    expect((await read(run.id, { file: 0, part: 'tokens', ranges: [[0, 2]] })).status).toBe(400);
    expect((await read(run.id, { file: 3, part: 'bin', ranges: [[0, 2]] })).status).toBe(404);
    expect((await read(run.id, { file: 0, part: 'bin', ranges: [[-1, 2]] })).status).toBe(400);
  });

  it('refuses to create a run whose data files are missing or broken, naming the file', async () => {
    const missing = await api(c.url, 'POST', '/api/runs', {
      body: { configs: withData('data_path: data/nowhere_text_document\n') },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('invalid_data');
    expect(missing.body.error.message).toContain('data path data/nowhere_text_document: neither an indexed dataset');
    const dir = tempDir('tabtron-data-broken-');
    writeFileSync(join(dir, 'b.idx'), readFileSync(join(root, `${ALPHA}.idx`)));
    writeFileSync(join(dir, 'b.bin'), readFileSync(join(root, `${ALPHA}.bin`)).subarray(0, 100));
    const broken = await api(c.url, 'POST', '/api/runs', { body: { configs: withData(`data_path: ${dir}/b\n`) } });
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toBe(
      `${dir}/b.bin is truncated: ${dir}/b.idx describes 2249 uint16 tokens (4498 bytes), the file has 100`,
    );
  });

  it('tokenizes a text data_path on the coordinator and serves its tokens', async () => {
    const dir = tempDir('tabtron-data-text-');
    const text = 'Call me Ishmael. Some years ago—never mind how long precisely.';
    writeFileSync(join(dir, 'story.txt'), text);
    const { run } = await createRun(c.url, withData(`data_path: ${dir}/story.txt\ntokenizer_type: GPT2BPETokenizer\n`));
    const manifest = (await api(c.url, 'GET', `/api/runs/${run.id}/data`)).body as DataManifest;
    const ids = gpt2BpeTokenizer.encode(text);
    expect(manifest.files[0]).toMatchObject({ kind: 'text', tokenizer: 'GPT2BPETokenizer', tokens: ids.length });
    const r = await read(run.id, { file: 0, part: 'tokens', ranges: [[0, ids.length * 4]] });
    expect([...new Int32Array(r.bytes.slice().buffer)]).toEqual(ids);
  });
});

describe('a dataset of several GB', () => {
  it('is served by range: a rank reads a batch fetching only its samples', async () => {
    // 2000 documents × 1.125M uint16 tokens = 4.5 GB, a sparse file (no disk used), markers past 2**32 bytes
    const dir = tempDir('tabtron-data-big-');
    const docs = 2000,
      perDoc = 1_125_000;
    const sizes = new Int32Array(docs).fill(perDoc);
    writeFileSync(
      join(dir, 'big.idx'),
      encodeIndex(
        'uint16',
        sizes,
        Array.from({ length: docs + 1 }, (_, i) => i),
      ),
    );
    const binBytes = docs * perDoc * 2;
    writeFileSync(join(dir, 'big.bin'), '');
    truncateSync(join(dir, 'big.bin'), binBytes);
    const marker = binBytes - 1000;
    const fd = openSync(join(dir, 'big.bin'), 'r+');
    writeSync(fd, Uint8Array.of(0x39, 0x05), 0, 2, marker); // token 1337
    closeSync(fd);
    expect(marker).toBeGreaterThan(2 ** 32);

    const yaml = `data_path: ${dir}/big\ntokenizer_type: GPT2BPETokenizer\nseq_length: 2048\nmax_position_embeddings: 2048\n`;
    const { run } = await createRun(c.url, withData(yaml));
    const source = { kind: 'coordinator', coordinatorUrl: c.url, runId: run.id, auth: { adminToken: ADMIN } } as const;
    const files = httpDataFiles(source);
    const { bin } = await files.indexed(`${dir}/big`);
    expect(bin.size).toBe(binBytes);
    const [got] = await bin.readMany([{ offset: marker, length: 2 }]);
    expect([...got]).toEqual([0x39, 0x05]);

    let fetched = 0;
    const realFetch = globalThis.fetch;
    globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
      const res = await realFetch(...args);
      fetched += Number(res.headers.get('content-length') ?? 0);
      return res;
    };
    try {
      const config = (await api(c.url, 'GET', `/api/runs/${run.id}`)).body.config as DataConfig;
      const data = await openRankData({ ...config, train_iters: 2 }, source, { globalBatch: 4 });
      expect(data.numTokens).toBe(docs * perDoc);
      const batch = await data.train.batch([0, 1, 2, 3]);
      expect(batch.tokens).toHaveLength(4 * 2048);
    } finally {
      globalThis.fetch = realFetch;
    }
    // the index's header and sizes (8 KB) and four samples' bytes (4 × 2049 × 2), nothing like the file
    expect(fetched).toBeLessThan(64 * 1024);
  });
});
