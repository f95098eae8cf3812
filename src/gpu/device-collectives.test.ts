// Device-local collectives (Dawn + SwiftShader here): ranks of this process that share one GPU
// device reduce on it. Checked against the CPU: the all-reduce is the rank-order f32 sum (the
// same bits on every member, whatever order they post in), in pieces and at views of a shared
// buffer at any 4-byte offset; the in-place all-gather of ZeRO shards; the sequence-parallel all-gather and reduce-scatter against
// assembleSequence and rankMajor + chunking; a member that never posts or fails fails the others.
import { describe, expect, it } from 'vitest';
import { assembleSequence, rankMajor } from '../model/sequence-parallel';
import { DeviceHub, deviceWorld } from './device-collectives';
import type { GpuTensor } from './tensor';
import { sharedTestContext } from './test-context';

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 3);

/** Σ_r parts[r] in rank order, in f32 (÷ divisor) */
function cpuSum(parts: Float32Array[], divisor = 1): Float32Array {
  const out = parts[0].slice();
  for (const p of parts.slice(1)) for (let i = 0; i < out.length; i++) out[i] = Math.fround(out[i] + p[i]);
  return divisor === 1 ? out : out.map((x) => Math.fround(x / divisor));
}

describe('device-local collectives', { timeout: 120_000 }, () => {
  it('all-reduce: the rank-order sum, in pieces, into views at any offset, the same on every member', async () => {
    const ctx = await sharedTestContext();
    const n = 2_500; // 3 pieces of at most 1000
    const hub = deviceWorld(ctx, 3, { pieceElems: 1000 });
    const members = [0, 1, 2].map((r) => hub.member(r));
    const group = { name: 'g', ranks: [0, 1, 2] };
    // rank r's tensor: a view at an odd element offset inside a buffer it shares with others
    const host = [0, 1, 2].map((r) => values(n, r));
    const big = ctx.tensor([3 * n + 20]);
    const views: GpuTensor[] = host.map((h, r) => {
      const v = { ...big, offset: (r * n + 7) * 4, length: n, shape: [n] };
      ctx.write(v, h);
      return v;
    });
    // members post in a different order than their ranks
    await Promise.all([2, 0, 1].map((r) => members[r].allReduce(views[r], group, 'sum')));
    const want = cpuSum(host);
    for (const v of views) expect(await ctx.read(v)).toEqual(want);

    // avg: the same values divided by the group size (any division rounding, but equal on all)
    const avgHost = [0, 1, 2].map((r) => values(n, 10 + r));
    views.forEach((v, r) => ctx.write(v, avgHost[r]));
    await Promise.all([1, 2, 0].map((r) => members[r].allReduce(views[r], group, 'avg')));
    const got = await Promise.all(views.map((v) => ctx.read(v)));
    const wantAvg = cpuSum(avgHost, 3);
    for (let i = 0; i < n; i++) expect(Math.abs(got[0][i] - wantAvg[i])).toBeLessThanOrEqual(1e-6);
    expect(got[1]).toEqual(got[0]);
    expect(got[2]).toEqual(got[0]);
    expect(hub.completed).toBe(2);
  });

  it("all-gather: each member's chunk (a ZeRO shard) reaches every member, in place", async () => {
    const ctx = await sharedTestContext();
    const hub = deviceWorld(ctx, 2);
    const members = [0, 1].map((r) => hub.member(r));
    const group = { name: 'dp', ranks: [1, 0] }; // group position, not rank, picks the chunk
    const host = [0, 1].map((r) => values(10, 40 + r));
    const ts = host.map((h) => ctx.tensorFrom(h));
    await Promise.all(members.map((m, r) => m.allGather(ts[r], group)));
    // rank 1 is position 0: chunk 0 from rank 1, chunk 1 from rank 0
    const want = new Float32Array([...host[1].subarray(0, 5), ...host[0].subarray(5)]);
    for (const t of ts) expect(await ctx.read(t)).toEqual(want);
  });

  it('sequence parallelism: all-gather and reduce-scatter place positions as assembleSequence and rankMajor do', async () => {
    const ctx = await sharedTestContext();
    const [B, T, cols, tp] = [3, 8, 5, 2];
    const hub = deviceWorld(ctx, tp);
    const members = [0, 1].map((r) => hub.member(r));
    const group = { name: 'tp', ranks: [0, 1] };
    const local = [0, 1].map((r) => values((B * T * cols) / tp, 20 + r));
    const pairs = local.map((l) => ({ local: ctx.tensorFrom(l), full: ctx.tensor([B * T * cols]) }));
    await Promise.all(members.map((m, r) => m.seqGather([pairs[r]], B, T, group)));
    const full = assembleSequence(local, B, T);
    for (const p of pairs) expect(await ctx.read(p.full)).toEqual(full);

    const partial = [0, 1].map((r) => values(B * T * cols, 30 + r));
    const fulls = partial.map((p) => ctx.tensorFrom(p));
    const outs = [0, 1].map(() => ctx.tensor([(B * T * cols) / tp]));
    await Promise.all(members.map((m, r) => m.seqReduceScatter(fulls[r], outs[r], B, T, group)));
    const summed = cpuSum(partial.map((p) => rankMajor(p, B, T, tp)));
    const chunk = summed.length / tp;
    for (let r = 0; r < tp; r++) expect(await ctx.read(outs[r])).toEqual(summed.subarray(r * chunk, (r + 1) * chunk));
  });

  it('a member that never posts, or fails, fails the others with a message naming it', async () => {
    const ctx = await sharedTestContext();
    const hub = new DeviceHub(ctx, [0, 1, 2]);
    const [a, b, c] = [0, 1, 2].map((r) => hub.member(r));
    const t = () => ctx.tensorFrom(values(16, 1));
    // rank 2 never posts: after the group's timeout the others give up
    const group = { name: 'g', ranks: [0, 1, 2], timeoutMs: 50 };
    const waits = [a.allReduce(t(), group), b.allReduce(t(), group)];
    for (const w of waits) await expect(w).rejects.toThrow(/device all-reduce 'g' #0: no post from rank\(s\) 2/);
    // rank 1 fails while the others wait for it, and any later call that needs it fails at once
    const pair = { name: 'p', ranks: [0, 1] };
    const waiting = a.allReduce(t(), pair);
    b.fail(new Error('out of memory'));
    await expect(waiting).rejects.toThrow(/rank 1 failed: out of memory/);
    await expect(c.allReduce(t(), { name: 'q', ranks: [1, 2] })).rejects.toThrow(/rank 1 of the group failed/);
    // members that disagree on what they reduce are told so
    const ac = { name: 'ac', ranks: [0, 2] };
    const first = a.allReduce(t(), ac);
    const mismatch = /rank 2 posted allReduce of 8 elements, another member allReduce of 16 elements/;
    await expect(c.allReduce(ctx.tensorFrom(values(8, 2)), ac)).rejects.toThrow(mismatch);
    await expect(first).rejects.toThrow(mismatch);
  });
});
