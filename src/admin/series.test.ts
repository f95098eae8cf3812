import { describe, expect, it } from 'vitest';
import { MetricSeries, formatBytesPerSec, timelineRows, type MetricPoint } from './series';

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

  it('keeps the latest bandwidth per directed link, busiest first', () => {
    const s = new MetricSeries();
    s.add([
      pt(0, 1, 'link_bytes_per_sec', 1e6, 1),
      pt(1, 1, 'link_bytes_per_sec', 3e6, 0),
      pt(0, 2, 'link_bytes_per_sec', 2e6, 1),
    ]);
    expect(s.linkTable().map((l) => [l.rank, l.peerRank, l.bytesPerSec, l.step])).toEqual([
      [1, 0, 3e6, 1],
      [0, 1, 2e6, 2],
    ]);
    expect(s.steps(['link_bytes_per_sec'])).toEqual([]);
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
    expect([formatBytesPerSec(512), formatBytesPerSec(12_600_000), formatBytesPerSec(2.5e9)]).toEqual([
      '512 B/s',
      '12.60 MB/s',
      '2.50 GB/s',
    ]);
  });
});
