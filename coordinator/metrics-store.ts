// Training telemetry in SQLite: scalar series, pipeline spans, checkpoint index.
// Every number the admin page draws is read from here.

import type { DB } from './db';
import type { Span } from '../src/protocol';

export interface MetricPoint {
  id: number;
  rank: number | null;
  step: number;
  name: string;
  /** Set for per-link metrics (link_bytes_per_sec): the other end of the link. */
  peerRank: number | null;
  value: number;
  at: number;
}

export interface SpanRow extends Span {
  rank: number;
  stage: number;
  step: number;
}

export interface CheckpointRow {
  rank: number;
  step: number;
  name: string;
  bytes: number;
  sha256: string | null;
  at: number;
}

const KEEP_SPAN_STEPS = 20;

export class MetricsStore {
  constructor(private readonly db: DB) {}

  add(runId: string, points: Omit<MetricPoint, 'id' | 'at'>[]): void {
    const at = Date.now();
    const ins = this.db.prepare(
      'INSERT INTO metrics (run_id, rank, step, name, peer_rank, value, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const p of points) ins.run(runId, p.rank, p.step, p.name, p.peerRank, p.value, at);
    })();
  }

  /** Points with id > afterId, oldest first; page with the last id returned. */
  since(runId: string, afterId = 0, limit = 5000): MetricPoint[] {
    return this.db
      .prepare(`SELECT id, rank, step, name, peer_rank AS peerRank, value, at FROM metrics
      WHERE run_id = ? AND id > ? ORDER BY id LIMIT ?`)
      .all(runId, afterId, limit) as MetricPoint[];
  }

  count(runId: string): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM metrics WHERE run_id = ?').get(runId) as { n: number }).n;
  }

  /** Keeps the timelines of the last KEEP_SPAN_STEPS steps (ranks send one every step). */
  addSpans(runId: string, rank: number, stage: number, step: number, spans: Span[]): void {
    const ins = this.db.prepare(
      'INSERT INTO spans (run_id, rank, stage, step, kind, microbatch, start_ms, end_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      for (const s of spans) ins.run(runId, rank, stage, step, s.kind, s.microbatch ?? null, s.startMs, s.endMs);
      this.db.prepare('DELETE FROM spans WHERE run_id = ? AND step <= ?').run(runId, step - KEEP_SPAN_STEPS);
    })();
  }

  /** Spans of the last `steps` steps that have any. */
  recentSpans(runId: string, steps = 2): SpanRow[] {
    const rows = this.db
      .prepare(`SELECT rank, stage, step, kind, microbatch, start_ms AS startMs, end_ms AS endMs FROM spans
      WHERE run_id = ? AND step >= (SELECT COALESCE(MAX(step), 0) FROM spans WHERE run_id = ?) - ? + 1 ORDER BY step, stage, start_ms`)
      .all(runId, runId, steps) as (SpanRow & { microbatch: number | null })[];
    return rows.map(({ microbatch, ...s }) => (microbatch === null ? s : { ...s, microbatch }));
  }

  addCheckpoint(runId: string, c: Omit<CheckpointRow, 'at'>): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO checkpoints (run_id, rank, step, name, bytes, sha256, at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(runId, c.rank, c.step, c.name, c.bytes, c.sha256, Date.now());
  }

  checkpoints(runId: string): CheckpointRow[] {
    return this.db
      .prepare('SELECT rank, step, name, bytes, sha256, at FROM checkpoints WHERE run_id = ? ORDER BY step, rank, name')
      .all(runId) as CheckpointRow[];
  }
}
