// Metric points (as the coordinator stores them: one row per rank, step and name) →
// the series the admin page draws. Pure, so the aggregation is unit-tested.

import type { MetricPoint, SpanRow } from '../../coordinator/metrics-store';

export type { MetricPoint, SpanRow };

/** Accumulates points across polls, keyed by step. */
export class MetricSeries {
  private readonly byName = new Map<string, Map<number, number[]>>();
  private readonly links = new Map<
    string,
    { rank: number; peerRank: number; bytesPerSec: number; step: number; at: number }
  >();

  add(points: readonly MetricPoint[]): void {
    for (const p of points) {
      if (p.name === 'link_bytes_per_sec') {
        if (p.rank !== null && p.peerRank !== null)
          this.links.set(`${p.rank}>${p.peerRank}`, {
            rank: p.rank,
            peerRank: p.peerRank,
            bytesPerSec: p.value,
            step: p.step,
            at: p.at,
          });
        continue;
      }
      let steps = this.byName.get(p.name);
      if (!steps) this.byName.set(p.name, (steps = new Map()));
      const vals = steps.get(p.step);
      if (vals) vals.push(p.value);
      else steps.set(p.step, [p.value]);
    }
  }

  /** Every step that has any of the names, ascending. */
  steps(names: readonly string[]): number[] {
    const s = new Set<number>();
    for (const n of names) for (const step of this.byName.get(n)?.keys() ?? []) s.add(step);
    return [...s].sort((a, b) => a - b);
  }

  /**
   * One value per step: loss-like metrics are averaged over the ranks that report them;
   * tokens/s is summed (each data-parallel replica's last stage reports its own share).
   */
  values(name: string, steps: readonly number[], reduce: 'mean' | 'sum'): (number | null)[] {
    const m = this.byName.get(name);
    return steps.map((s) => {
      const v = m?.get(s);
      if (!v?.length) return null;
      const sum = v.reduce((a, b) => a + b, 0);
      return reduce === 'sum' ? sum : sum / v.length;
    });
  }

  latest(name: string, reduce: 'mean' | 'sum'): { step: number; value: number } | null {
    const steps = this.steps([name]);
    if (!steps.length) return null;
    const step = steps[steps.length - 1];
    return { step, value: this.values(name, [step], reduce)[0]! };
  }

  /** Latest measured bandwidth of each directed link, busiest first. */
  linkTable(): { rank: number; peerRank: number; bytesPerSec: number; step: number }[] {
    return [...this.links.values()].sort(
      (a, b) => b.bytesPerSec - a.bytesPerSec || a.rank - b.rank || a.peerRank - b.peerRank,
    );
  }
}

export interface TimelineRow {
  stage: number;
  spans: { kind: string; microbatch?: number; start: number; end: number; rank: number }[];
}

/**
 * The latest step's spans, one row per pipeline stage, times relative to the earliest
 * span of that step on each rank (tab clocks are not synchronised, so ranks are aligned
 * at their own step start), in ms.
 */
export function timelineRows(
  spans: readonly SpanRow[],
  pp: number,
): { step: number | null; rows: TimelineRow[]; durationMs: number } {
  const rows: TimelineRow[] = Array.from({ length: pp }, (_, stage) => ({ stage, spans: [] }));
  if (!spans.length) return { step: null, rows, durationMs: 0 };
  const step = Math.max(...spans.map((s) => s.step));
  const mine = spans.filter((s) => s.step === step);
  const origin = new Map<number, number>();
  for (const s of mine) origin.set(s.rank, Math.min(origin.get(s.rank) ?? Infinity, s.startMs));
  let durationMs = 0;
  for (const s of mine) {
    const o = origin.get(s.rank)!;
    const span = {
      kind: s.kind,
      start: s.startMs - o,
      end: s.endMs - o,
      rank: s.rank,
      ...(s.microbatch === undefined ? {} : { microbatch: s.microbatch }),
    };
    rows[s.stage]?.spans.push(span);
    durationMs = Math.max(durationMs, span.end);
  }
  return { step, rows, durationMs };
}

export function formatBytesPerSec(b: number): string {
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} GB/s`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(2)} MB/s`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kB/s`;
  return `${b.toFixed(0)} B/s`;
}
