// Real WebRTC between 4 headless Chromium tabs: p2p of 1 B … 64 MiB, collectives
// bit-exact against the CPU reference (on the page and through the rank worker), and a
// tab closed mid-collective failing the others with an error naming it.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, closeRanks, openRanks, startCommEnv, type CommEnv } from './comm-tabs';
import type { CollectiveCheck } from './pages/comm';

let env: CommEnv;
let tabs: Page[];
const ALL = [0, 1, 2, 3];

beforeAll(async () => {
  env = await startCommEnv();
  tabs = await openRanks(env, 4);
});

afterAll(async () => {
  await closeRanks(tabs ?? []);
  await env?.close();
});

async function checkAll(c: Omit<CollectiveCheck, 'seed'> & { seed?: number }): Promise<void> {
  const check = { seed: 1, timeoutMs: 60_000, ...c };
  const results = await Promise.all(check.ranks.map((r) => call(tabs[r], 'check', check)));
  for (const r of results) expect(r.ok, r.detail).toBe(true);
}

describe('WebRTC between 4 headless Chromium tabs', () => {
  it('sends 1 B … 64 MiB point to point, intact', async () => {
    const sizes = [1, 3, 1000, 256 * 1024 - 1, 256 * 1024 + 1, 4 << 20, 64 << 20];
    for (const bytes of sizes) {
      const tag = `p2p-${bytes}`;
      const [sent, got] = await Promise.all([
        call(tabs[0], 'send', 1, tag, bytes, bytes),
        call(tabs[1], 'recv', 0, tag, bytes, bytes),
      ]);
      expect(got.ok, got.detail).toBe(true);
      if (bytes === 64 << 20)
        console.log(
          `64 MiB tab 0 → tab 1: ${(bytes / 1e6 / (got.ms / 1000)).toFixed(1)} MB/s (send call ${sent.ms.toFixed(0)} ms)`,
        );
    }
  });

  it('keeps concurrent transfers between one pair apart by tag', async () => {
    const sizes = [3 << 20, 5, 1 << 20];
    const sends = sizes.map((b, i) => call(tabs[2], 'send', 3, `mix-${i}`, b, 100 + i));
    const recvs = [2, 0, 1].map((i) => call(tabs[3], 'recv', 2, `mix-${i}`, sizes[i], 100 + i));
    const got = await Promise.all([...sends, ...recvs]);
    for (const r of got.slice(sizes.length) as Array<{ ok: boolean; detail: string }>)
      expect(r.ok, r.detail).toBe(true);
  });

  for (const op of [
    'allReduce',
    'allReduceAvg',
    'reduceScatter',
    'allGather',
    'allGatherSlice',
    'broadcast',
  ] as const) {
    it(`${op} across 4 tabs is bit-exact (odd length, and length < group)`, async () => {
      await checkAll({ op, ranks: ALL, length: 300_001 });
      await checkAll({ op, ranks: ALL, length: 3, seed: 2 });
    });
  }

  it('all-reduce over sub-groups [0,2] and [1,3] at once', async () => {
    await Promise.all([
      checkAll({ op: 'allReduce', ranks: [0, 2], length: 100_003 }),
      checkAll({ op: 'allReduce', ranks: [1, 3], length: 99_999 }),
    ]);
  });

  it('all-reduce and all-gather from the rank worker, buffers transferred page ⇄ worker', async () => {
    await checkAll({ op: 'allReduce', ranks: ALL, length: 1 << 20, viaWorker: true });
    await checkAll({ op: 'allGatherSlice', ranks: ALL, length: 10_007, viaWorker: true });
    await checkAll({ op: 'allGather', ranks: ALL, length: 12_345, viaWorker: true });
  });

  it('barrier', async () => {
    await checkAll({ op: 'barrier', ranks: ALL, length: 0 });
  });

  it('fails a receive of the wrong size, or of a tag that never comes, naming the peer', async () => {
    await call(tabs[0], 'send', 1, 'sized', 100, 5);
    const wrong = await call(tabs[1], 'recv', 0, 'sized', 200, 5);
    expect(wrong.ok).toBe(false);
    expect(wrong.detail).toMatch(/p2p: rank 1 ⇄ rank 0: message 'sized' has 100 bytes, expected 200/);
    await call(tabs[0], 'send', 1, 'this-tag', 10, 6);
    const stalled = await call(tabs[1], 'recv', 0, 'that-tag', 10, 6, 1500);
    expect(stalled.ok).toBe(false);
    expect(stalled.detail).toMatch(
      /rank 1 ⇄ rank 0: timed out after 1500 ms: nothing arrived for 'that-tag'; unclaimed messages from this peer: 'this-tag' \(10 B\)/,
    );
    const right = await call(tabs[1], 'recv', 0, 'this-tag', 10, 6);
    expect(right.ok, right.detail).toBe(true);
  });

  it('a tab closed mid all-reduce makes the others fail within the timeout, naming it', async () => {
    const timeoutMs = 30_000;
    const check: CollectiveCheck = { op: 'allReduce', ranks: ALL, length: 8 << 20, seed: 9, timeoutMs };
    const started = Date.now();
    const runs = [0, 1, 2].map((r) => call(tabs[r], 'check', check));
    void call(tabs[3], 'check', check).catch(() => {});
    await new Promise((res) => setTimeout(res, 1500));
    await tabs[3].close();
    const results = await Promise.all(runs);
    const elapsed = Date.now() - started;
    for (const r of results) {
      expect(r.ok, r.detail).toBe(false);
      expect(r.detail).toMatch(/allReduce .*rank 3.*peer lost/);
    }
    console.log(`after closing tab 3: ${results.map((r) => r.detail).join(' | ')} (${elapsed} ms)`);
    expect(elapsed).toBeLessThan(timeoutMs);
  });
});
