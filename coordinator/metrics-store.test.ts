// The spans table keeps only recent timelines: every rank sends one each step.
import { afterEach, describe, expect, it } from 'vitest';
import { type DB, openDatabase } from './db';
import { MetricsStore } from './metrics-store';
import { removeTempDirs, tempDir } from './test-helpers';

let db: DB | null = null;
afterEach(() => {
  db?.close();
  db = null;
  removeTempDirs();
});

describe('MetricsStore spans', () => {
  it('keeps the last 20 steps of timelines and serves the most recent ones', () => {
    db = openDatabase(tempDir('tabtron-metrics-'));
    db.prepare(
      "INSERT INTO runs (id, name, state, sources_json, config_json, plan_json, join_token, created_at, updated_at) VALUES ('r1', 'r1', 'running', '[]', '{}', '{}', 't', 0, 0)",
    ).run();
    const m = new MetricsStore(db);
    for (let step = 1; step <= 50; step++) {
      for (const rank of [0, 1])
        m.addSpans('r1', rank, rank, step, [
          { kind: 'forward', microbatch: 0, startMs: 0, endMs: 5 },
          { kind: 'backward', microbatch: 0, startMs: 5, endMs: 15 },
        ]);
    }
    const kept = db
      .prepare("SELECT MIN(step) AS lo, MAX(step) AS hi, COUNT(*) AS n FROM spans WHERE run_id = 'r1'")
      .get() as { lo: number; hi: number; n: number };
    expect(kept).toEqual({ lo: 31, hi: 50, n: 20 * 2 * 2 });
    const recent = m.recentSpans('r1', 2);
    expect([...new Set(recent.map((s) => s.step))]).toEqual([49, 50]);
    expect(recent.filter((s) => s.step === 50).map((s) => [s.rank, s.kind])).toEqual([
      [0, 'forward'],
      [0, 'backward'],
      [1, 'forward'],
      [1, 'backward'],
    ]);
  });
});
