// The tab side of the data API (msw standing in for the coordinator's HTTP answers): ranges
// are batched into requests of bounded size and put back together, duplicate ranges are asked
// once, and an answer whose bytes do not match its SHA-256 is an error naming the file.
import { createHash } from 'node:crypto';
import { http, HttpResponse } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataManifest } from './http-files';
import { MAX_READ_BYTES, httpDataFiles, planReads } from './http-files';

const BASE = 'http://coordinator.test';
const FILE = new Uint8Array(24 * 2 ** 20);
for (let i = 0; i < FILE.length; i++) FILE[i] = (i * 7) % 251;
const manifest: DataManifest = {
  runId: 'r1',
  files: [
    {
      id: 0,
      path: 'data/x',
      kind: 'indexed',
      version: 'v1',
      dtype: 'uint16',
      sequences: 1,
      documents: 1,
      tokens: FILE.length / 2,
      parts: { idx: 100, bin: FILE.length },
    },
  ],
};
const requests: [number, number][][] = [];
let corrupt = false;

const server = setupServer(
  http.get(`${BASE}/api/runs/r1/data`, () => HttpResponse.json(manifest)),
  http.post(`${BASE}/api/runs/r1/data/read`, async ({ request }) => {
    const body = (await request.json()) as { part: string; ranges: [number, number][] };
    requests.push(body.ranges);
    const out = Buffer.concat(body.ranges.map(([o, n]) => FILE.subarray(o, o + n)));
    const sha = createHash('sha256').update(out).digest('hex');
    if (corrupt) out[0] ^= 1;
    return new HttpResponse(out, { headers: { 'x-tabtron-sha256': sha } });
  }),
);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

const source = { kind: 'coordinator', coordinatorUrl: BASE, runId: 'r1', auth: { adminToken: 't' } } as const;

describe('httpDataFiles', () => {
  it('plans reads of at most MAX_READ_BYTES, splitting a longer range', () => {
    const plan = planReads([
      { offset: 0, length: 10 },
      { offset: 100, length: MAX_READ_BYTES + 5 },
    ]);
    expect(plan).toEqual([
      [{ offset: 0, length: 10 }],
      [{ offset: 100, length: MAX_READ_BYTES }],
      [{ offset: 100 + MAX_READ_BYTES, length: 5 }],
    ]);
  });

  it('reads ranges in few requests (duplicates once), returns them in order, large ones joined', async () => {
    requests.length = 0;
    const { bin } = await httpDataFiles(source).indexed('data/x');
    const ranges = [
      { offset: 5, length: 3 },
      { offset: 1000, length: 20 * 2 ** 20 },
      { offset: 5, length: 3 },
      { offset: 0, length: 0 },
    ];
    const got = await bin.readMany(ranges);
    got.forEach((g, i) => {
      const want = FILE.subarray(ranges[i].offset, ranges[i].offset + ranges[i].length);
      expect(Buffer.compare(Buffer.from(g), Buffer.from(want)), `range ${i}`).toBe(0);
    });
    expect(requests).toHaveLength(3); // the 3 bytes; the large range in two (16 MiB, then the rest with the empty one)
    expect(requests.flat().filter(([o, n]) => o === 5 && n === 3)).toHaveLength(1);
    await expect(bin.readMany([{ offset: FILE.length - 1, length: 2 }])).rejects.toThrow(
      `data/x.bin (on the coordinator): bytes ${FILE.length - 1}..${FILE.length + 1} are past its end`,
    );
  });

  it('refuses bytes that do not match the SHA-256 the coordinator sent', async () => {
    corrupt = true;
    try {
      const { bin } = await httpDataFiles(source).indexed('data/x');
      await expect(bin.readMany([{ offset: 64, length: 32 }])).rejects.toThrow(
        /reading data\/x\.bin \(on the coordinator\): the bytes' SHA-256 [0-9a-f]{64} is not the coordinator's [0-9a-f]{64} \(damaged in transit\)/,
      );
    } finally {
      corrupt = false;
    }
    await expect(httpDataFiles(source).indexed('data/other')).rejects.toThrow(
      'the coordinator serves no data path data/other for run r1',
    );
  });
});
