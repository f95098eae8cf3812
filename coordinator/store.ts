// Typed reads and writes of runs and participants (the SQLite rows of db.ts).

import type { DB } from './db';
import type { DeviceInfo } from '../src/protocol';

export type RunState = 'waiting' | 'running' | 'paused' | 'stopped';
export type ParticipantState = 'assigned' | 'ready' | 'training' | 'standby' | 'left';

export interface ConfigSource {
  file: string;
  text: string;
}

export interface Run {
  id: string;
  name: string;
  state: RunState;
  stateReason: string;
  paused: boolean;
  sources: ConfigSource[];
  config: Record<string, unknown>;
  plan: Record<string, unknown>;
  joinToken: string;
  step: number;
  createdAt: number;
  updatedAt: number;
}

export interface Participant {
  id: string;
  runId: string;
  secretHash: string;
  peerId: string;
  state: ParticipantState;
  rank: number | null;
  connected: boolean;
  device: DeviceInfo;
  ip: string;
  joinedAt: number;
  lastSeenAt: number;
  leftAt: number | null;
}

type Row = Record<string, unknown>;

function toRun(r: Row): Run {
  return {
    id: r.id as string,
    name: r.name as string,
    state: r.state as RunState,
    stateReason: r.state_reason as string,
    paused: r.paused === 1,
    sources: JSON.parse(r.sources_json as string),
    config: JSON.parse(r.config_json as string),
    plan: JSON.parse(r.plan_json as string),
    joinToken: r.join_token as string,
    step: r.step as number,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
  };
}

function toParticipant(r: Row): Participant {
  return {
    id: r.id as string,
    runId: r.run_id as string,
    secretHash: r.secret_hash as string,
    peerId: r.peer_id as string,
    state: r.state as ParticipantState,
    rank: r.rank as number | null,
    connected: r.connected === 1,
    device: JSON.parse(r.device_json as string),
    ip: r.ip as string,
    joinedAt: r.joined_at as number,
    lastSeenAt: r.last_seen_at as number,
    leftAt: r.left_at as number | null,
  };
}

export class Store {
  constructor(readonly db: DB) {}

  // ---- runs
  insertRun(run: Omit<Run, 'updatedAt'>): void {
    this.db
      .prepare(`INSERT INTO runs (id, name, state, state_reason, paused, sources_json, config_json, plan_json, join_token, step, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        run.id,
        run.name,
        run.state,
        run.stateReason,
        run.paused ? 1 : 0,
        JSON.stringify(run.sources),
        JSON.stringify(run.config),
        JSON.stringify(run.plan),
        run.joinToken,
        run.step,
        run.createdAt,
        run.createdAt,
      );
  }

  getRun(id: string): Run | undefined {
    const r = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    return r && toRun(r);
  }

  listRuns(): Run[] {
    return (this.db.prepare('SELECT * FROM runs ORDER BY created_at DESC').all() as Row[]).map(toRun);
  }

  setRunState(id: string, state: RunState, reason: string, paused?: boolean): void {
    this.db
      .prepare('UPDATE runs SET state = ?, state_reason = ?, paused = COALESCE(?, paused), updated_at = ? WHERE id = ?')
      .run(state, reason, paused === undefined ? null : paused ? 1 : 0, Date.now(), id);
  }

  advanceRunStep(id: string, step: number): void {
    this.db.prepare('UPDATE runs SET step = MAX(step, ?), updated_at = ? WHERE id = ?').run(step, Date.now(), id);
  }

  // ---- participants
  insertParticipant(p: Participant): void {
    this.db
      .prepare(`INSERT INTO participants (id, run_id, secret_hash, peer_id, state, rank, connected, device_json, ip, joined_at, last_seen_at, left_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(
        p.id,
        p.runId,
        p.secretHash,
        p.peerId,
        p.state,
        p.rank,
        p.connected ? 1 : 0,
        JSON.stringify(p.device),
        p.ip,
        p.joinedAt,
        p.lastSeenAt,
        p.leftAt,
      );
  }

  getParticipant(id: string): Participant | undefined {
    const r = this.db.prepare('SELECT * FROM participants WHERE id = ?').get(id) as Row | undefined;
    return r && toParticipant(r);
  }

  /** Participants of a run that have not left, in join order. */
  activeParticipants(runId: string): Participant[] {
    return (
      this.db
        .prepare("SELECT * FROM participants WHERE run_id = ? AND state != 'left' ORDER BY joined_at, rowid")
        .all(runId) as Row[]
    ).map(toParticipant);
  }

  allParticipants(runId: string): Participant[] {
    return (
      this.db.prepare('SELECT * FROM participants WHERE run_id = ? ORDER BY joined_at, rowid').all(runId) as Row[]
    ).map(toParticipant);
  }

  setParticipantState(id: string, state: ParticipantState): void {
    this.db.prepare('UPDATE participants SET state = ? WHERE id = ?').run(state, id);
  }

  setConnected(id: string, connected: boolean): void {
    this.db
      .prepare('UPDATE participants SET connected = ?, last_seen_at = ? WHERE id = ?')
      .run(connected ? 1 : 0, Date.now(), id);
  }

  touch(id: string): void {
    this.db.prepare('UPDATE participants SET last_seen_at = ? WHERE id = ?').run(Date.now(), id);
  }

  setHidden(id: string, hidden: boolean): void {
    this.db
      .prepare("UPDATE participants SET device_json = json_set(device_json, '$.hidden', json(?)) WHERE id = ?")
      .run(hidden ? 'true' : 'false', id);
  }

  assignRank(participantId: string, runId: string, rank: number): void {
    const now = Date.now();
    this.db.transaction(() => {
      this.db.prepare("UPDATE participants SET rank = ?, state = 'assigned' WHERE id = ?").run(rank, participantId);
      this.db
        .prepare('INSERT INTO assignments (run_id, rank, participant_id, assigned_at) VALUES (?, ?, ?, ?)')
        .run(runId, rank, participantId, now);
    })();
  }

  /** The participant leaves the run (and its rank, if it held one). */
  markLeft(participantId: string): void {
    const now = Date.now();
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE assignments SET released_at = ? WHERE participant_id = ? AND released_at IS NULL')
        .run(now, participantId);
      this.db
        .prepare("UPDATE participants SET rank = NULL, state = 'left', connected = 0, left_at = ? WHERE id = ?")
        .run(now, participantId);
    })();
  }

  assignmentHistory(
    runId: string,
  ): { rank: number; participantId: string; assignedAt: number; releasedAt: number | null }[] {
    return this.db
      .prepare(`SELECT rank, participant_id AS participantId, assigned_at AS assignedAt, released_at AS releasedAt
      FROM assignments WHERE run_id = ? ORDER BY assigned_at, rowid`)
      .all(runId) as never;
  }

  // ---- events
  addEvent(runId: string, kind: string, detail = ''): void {
    this.db
      .prepare('INSERT INTO events (run_id, at, kind, detail) VALUES (?, ?, ?, ?)')
      .run(runId, Date.now(), kind, detail);
  }

  events(runId: string, limit = 200): { at: number; kind: string; detail: string }[] {
    return this.db
      .prepare('SELECT at, kind, detail FROM events WHERE run_id = ? ORDER BY id DESC LIMIT ?')
      .all(runId, limit) as never;
  }
}
