// The coordinator's SQLite file (better-sqlite3, WAL): opened once, schema migrated
// by PRAGMA user_version. All state the admin page shows lives here.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export type DB = Database.Database;

const MIGRATIONS: string[] = [
  `
  CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    state TEXT NOT NULL,            -- waiting | running | paused | stopped
    state_reason TEXT NOT NULL DEFAULT '',
    paused INTEGER NOT NULL DEFAULT 0,
    sources_json TEXT NOT NULL,     -- [{file, text}] as submitted
    config_json TEXT NOT NULL,      -- resolved NeoX config
    plan_json TEXT NOT NULL,
    join_token TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE participants (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES runs(id),
    secret_hash TEXT NOT NULL,
    peer_id TEXT NOT NULL,
    state TEXT NOT NULL,            -- assigned | ready | training | standby | left
    rank INTEGER,                   -- null while standby or gone
    connected INTEGER NOT NULL DEFAULT 0,
    device_json TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    joined_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    left_at INTEGER
  );
  CREATE INDEX participants_run ON participants(run_id, state);
  CREATE UNIQUE INDEX one_holder_per_rank ON participants(run_id, rank) WHERE rank IS NOT NULL;
  CREATE TABLE assignments (       -- history: who held which rank when
    run_id TEXT NOT NULL, rank INTEGER NOT NULL, participant_id TEXT NOT NULL,
    assigned_at INTEGER NOT NULL, released_at INTEGER
  );
  CREATE TABLE metrics (           -- scalar series: loss, val_loss, tokens_per_sec, timings, link bandwidth
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL, rank INTEGER, step INTEGER NOT NULL,
    name TEXT NOT NULL, peer_rank INTEGER, value REAL NOT NULL, at INTEGER NOT NULL
  );
  CREATE INDEX metrics_run ON metrics(run_id, id);
  CREATE TABLE spans (             -- pipeline timeline
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL, rank INTEGER NOT NULL, stage INTEGER NOT NULL, step INTEGER NOT NULL,
    kind TEXT NOT NULL, microbatch INTEGER, start_ms REAL NOT NULL, end_ms REAL NOT NULL
  );
  CREATE INDEX spans_run ON spans(run_id, step);
  CREATE TABLE checkpoints (
    run_id TEXT NOT NULL, rank INTEGER NOT NULL, step INTEGER NOT NULL, name TEXT NOT NULL,
    bytes INTEGER NOT NULL, sha256 TEXT, at INTEGER NOT NULL,
    PRIMARY KEY (run_id, rank, step, name)
  );
  CREATE TABLE events (            -- lifecycle audit log
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL DEFAULT ''
  );
  `,
  // elastic runs: numbered membership generations, the layout each trains in, and recoveries
  `
  ALTER TABLE runs ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE runs ADD COLUMN layout_json TEXT;   -- ElasticLayout of the current generation
  ALTER TABLE participants ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;  -- of the rank it holds
  CREATE TABLE recoveries (        -- one per membership change of a run
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL, generation INTEGER NOT NULL,
    cause TEXT NOT NULL,           -- start | close | crash | reload | silent | peer | grow | coordinator-restart
    detail TEXT NOT NULL DEFAULT '',
    lost_json TEXT NOT NULL,       -- [{rank, participant}] ranks whose holder went away
    took_over_json TEXT NOT NULL,  -- [{rank, participant, from}] ranks filled by another tab
    restored_from TEXT,            -- none | dp-peer | local | checkpoint | init
    committed_step INTEGER NOT NULL, resume_step INTEGER,
    layout_json TEXT,
    started_at INTEGER NOT NULL, finished_at INTEGER
  );
  CREATE INDEX recoveries_run ON recoveries(run_id, id);
  `,
  // what the model writes at each evaluation (a greedy sample from rank 0)
  `
  CREATE TABLE samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL, step INTEGER NOT NULL, prompt TEXT NOT NULL, text TEXT NOT NULL, at INTEGER NOT NULL
  );
  CREATE INDEX samples_run ON samples(run_id, id);
  `,
];

export function openDatabase(dataDir: string): DB {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'tabtron.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  return db;
}

function migrate(db: DB): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    throw new Error(`database schema version ${version} is newer than this coordinator (${MIGRATIONS.length})`);
  }
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
