import { describe, expect, it } from 'vitest';
import { MetricSeries, formatBytes, formatBytesPerSec, timelineRows, type MetricPoint } from './series';

let id = 0;
const pt = (rank: number, step: number, name: string, value: number, peerRank: number | null = null): MetricPoint => ({
  id: ++id,
  rank,
  step,
  name,
  peerRank,
  value,
  at: 1000 + id,
});

describe('MetricSeries', () => {
  it('averages losses and sums tokens/s over ranks, per step, across polls', () => {
    const s = new MetricSeries();
    s.add([pt(2, 1, 'loss', 5), pt(3, 1, 'loss', 7), pt(2, 1, 'tokens_per_sec', 100), pt(3, 1, 'tokens_per_sec', 50)]);
    s.add([pt(2, 3, 'loss', 4), pt(3, 2, 'val_loss', 6.5)]);
    const steps = s.steps(['loss', 'val_loss']);
    expect(steps).toEqual([1, 2, 3]);
    expect(s.values('loss', steps, 'mean')).toEqual([6, null, 4]);
    expect(s.values('val_loss', steps, 'mean')).toEqual([null, 6.5, null]);
    expect(s.values('tokens_per_sec', [1], 'sum')).toEqual([150]);
    expect(s.latest('loss', 'mean')).toEqual({ step: 3, value: 4 });
    expect(s.latest('lr', 'mean')).toBeNull();
  });

  it('keeps the latest bandwidth and bytes per directed link, busiest first', () => {
    const s = new MetricSeries();
    s.add([
      pt(0, 1, 'link_bytes_per_sec', 1e6, 1),
      pt(1, 1, 'link_bytes_per_sec', 3e6, 0),
      pt(0, 2, 'link_bytes_per_sec', 2e6, 1),
      pt(0, 2, 'link_bytes', 5e5, 1),
      pt(1, 2, 'link_bytes', 7e5, 0),
    ]);
    expect(s.linkTable().map((l) => [l.rank, l.peerRank, l.bytesPerSec, l.bytes, l.step])).toEqual([
      [1, 0, 3e6, 7e5, 2],
      [0, 1, 2e6, 5e5, 2],
    ]);
    expect(s.steps(['link_bytes_per_sec'])).toEqual([]);
    // bytes per step, summed over every rank's links (the traffic chart)
    expect(s.values('link_bytes', s.steps(['link_bytes']), 'sum')).toEqual([1.2e6]);
  });

  it('combines local-SGD syncs over ranks: bytes summed, norms of the whole model, newest first', () => {
    const s = new MetricSeries();
    // dp 2, two ranks per replica (two shards): 4 ranks report each round
    for (const [step, scale] of [
      [500, 1],
      [1000, 2],
    ]) {
      for (const rank of [0, 1, 2, 3]) {
        const part = rank % 2 === 0 ? 3 : 4; // shard norms 3 and 4: the whole model's is 5
        s.add([
          pt(rank, step, 'round_bytes', 1000, null),
          pt(rank, step, 'outer_delta_norm', part * scale, null),
          pt(rank, step, 'outer_update_norm', 2 * part * scale, null),
          pt(rank, step, 'round_ms', 10 + rank, null),
        ]);
      }
    }
    const rounds = s.rounds(2);
    expect(rounds.map((r) => r.step)).toEqual([1000, 500]);
    expect(rounds[1]).toEqual({ step: 500, bytes: 4000, deltaNorm: 5, updateNorm: 10, ms: 13 });
    expect(rounds[0].deltaNorm).toBeCloseTo(10, 12);
    expect(s.rounds(2, 1)).toHaveLength(1);
  });
});

describe('timelineRows', () => {
  it('takes the latest step, one row per stage, each rank aligned at its own first span', () => {
    const spans = [
      { rank: 0, stage: 0, step: 4, kind: 'forward', microbatch: 0, startMs: 100, endMs: 110 },
      { rank: 0, stage: 0, step: 5, kind: 'forward', microbatch: 0, startMs: 200, endMs: 210 },
      { rank: 0, stage: 0, step: 5, kind: 'backward', microbatch: 0, startMs: 230, endMs: 250 },
      { rank: 2, stage: 1, step: 5, kind: 'forward', microbatch: 0, startMs: 9000, endMs: 9015 },
    ] as const;
    const t = timelineRows(
      spans.map((s) => ({ ...s })),
      2,
    );
    expect(t.step).toBe(5);
    expect(t.durationMs).toBe(50);
    expect(t.rows[0].spans.map((s) => [s.kind, s.start, s.end])).toEqual([
      ['forward', 0, 10],
      ['backward', 30, 50],
    ]);
    expect(t.rows[1].spans.map((s) => [s.kind, s.start, s.end, s.rank])).toEqual([['forward', 0, 15, 2]]);
    expect(timelineRows([], 3)).toEqual({
      step: null,
      rows: [
        { stage: 0, spans: [] },
        { stage: 1, spans: [] },
        { stage: 2, spans: [] },
      ],
      durationMs: 0,
    });
  });

  it('formats bandwidth', () => {
    expect([formatBytes(999), formatBytes(1500), formatBytes(2.5e6)]).toEqual(['999 B', '1.5 kB', '2.50 MB']);
    expect([formatBytesPerSec(512), formatBytesPerSec(12_600_000), formatBytesPerSec(2.5e9)]).toEqual([
      '512 B/s',
      '12.60 MB/s',
      '2.50 GB/s',
    ]);
  });
});
