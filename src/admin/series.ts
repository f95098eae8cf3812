// Metric points (as the coordinator stores them: one row per rank, step and name) →
// the series the admin page draws. Pure, so the aggregation is unit-tested.

import type { MetricPoint, SpanRow } from '../../coordinator/metrics-store';

export type { MetricPoint, SpanRow };

/** Accumulates points across polls, keyed by step. */
export class MetricSeries {
  private readonly byName = new Map<string, Map<number, number[]>>();
  private readonly links = new Map<string, LinkRow>();

  add(points: readonly MetricPoint[]): void {
    for (const p of points) {
      if (p.name === 'link_bytes_per_sec' || p.name === 'link_bytes') {
        if (p.rank === null || p.peerRank === null) continue;
        const key = `${p.rank}>${p.peerRank}`;
        const row = this.links.get(key) ?? {
          rank: p.rank,
          peerRank: p.peerRank,
          bytesPerSec: null,
          bytes: null,
          step: p.step,
        };
        if (p.step >= row.step) row.step = p.step;
        if (p.name === 'link_bytes_per_sec') row.bytesPerSec = p.value;
        else row.bytes = p.value;
        this.links.set(key, row);
        if (p.name === 'link_bytes_per_sec') continue;
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

  /** Latest report of each directed link (bytes of that report, throughput while sending), busiest first. */
  linkTable(): LinkRow[] {
    return [...this.links.values()].sort(
      (a, b) => (b.bytesPerSec ?? 0) - (a.bytesPerSec ?? 0) || a.rank - b.rank || a.peerRank - b.peerRank,
    );
  }

  /**
   * The local-SGD syncs, newest first: bytes every rank sent for them, and the norms of the
   * whole model's averaged pseudo-gradient and outer update. Ranks report the norm of their own
   * part; the dp replicas of a part report the same one, so ‖·‖ = sqrt(Σ_ranks ‖part‖² / dp).
   */
  rounds(dp: number, limit = 20): RoundRow[] {
    const steps = this.steps(['round_bytes']).reverse().slice(0, limit);
    const whole = (name: string, step: number) => {
      const v = this.byName.get(name)?.get(step) ?? [];
      return Math.sqrt(v.reduce((a, x) => a + x * x, 0) / Math.max(1, dp));
    };
    return steps.map((step) => ({
      step,
      bytes: this.values('round_bytes', [step], 'sum')[0] ?? 0,
      deltaNorm: whole('outer_delta_norm', step),
      updateNorm: whole('outer_update_norm', step),
      ms: Math.max(...(this.byName.get('round_ms')?.get(step) ?? [0])),
    }));
  }
}

export interface LinkRow {
  rank: number;
  peerRank: number;
  /** throughput while sends to the peer were in progress (latest report) */
  bytesPerSec: number | null;
  /** bytes of the latest report (one step's traffic) */
  bytes: number | null;
  step: number;
}

export interface RoundRow {
  step: number;
  bytes: number;
  deltaNorm: number;
  updateNorm: number;
  ms: number;
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

export function formatBytes(b: number): string {
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} GB`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(2)} MB`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kB`;
  return `${b.toFixed(0)} B`;
}

export function formatBytesPerSec(b: number): string {
  if (b >= 1e9) return `${(b / 1e9).toFixed(2)} GB/s`;
  if (b >= 1e6) return `${(b / 1e6).toFixed(2)} MB/s`;
  if (b >= 1e3) return `${(b / 1e3).toFixed(1)} kB/s`;
  return `${b.toFixed(0)} B/s`;
}
