// Typed reads and writes of runs and participants (the SQLite rows of db.ts).

import type { DB } from './db';
import type { DeviceInfo, ElasticLayout } from '../src/protocol';

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
  /** the membership generation training now or being set up (0: none yet) */
  generation: number;
  /** the layout of that generation (null before the first) */
  layout: ElasticLayout | null;
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

/** One membership change of a run: why, who went and who took over, where the state came
 *  from, how far the run went back, and how long it took (finishedAt − startedAt). */
export interface RecoveryRow {
  id: number;
  runId: string;
  generation: number;
  cause: string;
  detail: string;
  lost: { rank: number; participant: string }[];
  tookOver: { rank: number; participant: string; from: string }[];
  restoredFrom: string | null;
  committedStep: number;
  resumeStep: number | null;
  layout: ElasticLayout | null;
  startedAt: number;
  finishedAt: number | null;
}

function toRecovery(r: Row): RecoveryRow {
  return {
    id: r.id as number,
    runId: r.run_id as string,
    generation: r.generation as number,
    cause: r.cause as string,
    detail: r.detail as string,
    lost: JSON.parse(r.lost_json as string),
    tookOver: JSON.parse(r.took_over_json as string),
    restoredFrom: (r.restored_from as string | null) ?? null,
    committedStep: r.committed_step as number,
    resumeStep: (r.resume_step as number | null) ?? null,
    layout: r.layout_json ? JSON.parse(r.layout_json as string) : null,
    startedAt: r.started_at as number,
    finishedAt: (r.finished_at as number | null) ?? null,
  };
}

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
    generation: r.generation as number,
    layout: r.layout_json ? JSON.parse(r.layout_json as string) : null,
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

  // ---- elastic generations
  /** Starts generation `generation` in `layout`: ranks go to the given participants (all
   *  others of the run hold none), in one transaction. */
  beginGeneration(
    runId: string,
    generation: number,
    layout: ElasticLayout,
    seats: { participantId: string; rank: number }[],
  ): void {
    const now = Date.now();
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE runs SET generation = ?, layout_json = ?, updated_at = ? WHERE id = ?')
        .run(generation, JSON.stringify(layout), now, runId);
      const holders = this.db
        .prepare("SELECT id, rank FROM participants WHERE run_id = ? AND rank IS NOT NULL AND state != 'left'")
        .all(runId) as { id: string; rank: number }[];
      const next = new Map(seats.map((s) => [s.participantId, s.rank]));
      for (const h of holders) {
        if (next.get(h.id) === h.rank) continue;
        this.db
          .prepare('UPDATE assignments SET released_at = ? WHERE participant_id = ? AND released_at IS NULL')
          .run(now, h.id);
        this.db.prepare("UPDATE participants SET rank = NULL, state = 'standby' WHERE id = ?").run(h.id);
      }
      for (const s of seats) {
        const was = holders.find((h) => h.id === s.participantId);
        this.db
          .prepare("UPDATE participants SET rank = ?, state = 'assigned', generation = ? WHERE id = ?")
          .run(s.rank, generation, s.participantId);
        if (was?.rank !== s.rank)
          this.db
            .prepare('INSERT INTO assignments (run_id, rank, participant_id, assigned_at) VALUES (?, ?, ?, ?)')
            .run(runId, s.rank, s.participantId, now);
      }
    })();
  }

  addRecovery(
    r: Omit<RecoveryRow, 'id' | 'finishedAt' | 'restoredFrom' | 'resumeStep' | 'layout' | 'tookOver'>,
  ): number {
    const info = this.db
      .prepare(
        `INSERT INTO recoveries (run_id, generation, cause, detail, lost_json, took_over_json, committed_step, started_at)
        VALUES (?, ?, ?, ?, ?, '[]', ?, ?)`,
      )
      .run(r.runId, r.generation, r.cause, r.detail, JSON.stringify(r.lost), r.committedStep, r.startedAt);
    return Number(info.lastInsertRowid);
  }

  updateRecovery(id: number, patch: Partial<Pick<RecoveryRow, 'generation' | 'lost' | 'detail' | 'cause'>>): void {
    if (patch.cause !== undefined) this.db.prepare('UPDATE recoveries SET cause = ? WHERE id = ?').run(patch.cause, id);
    if (patch.generation !== undefined)
      this.db.prepare('UPDATE recoveries SET generation = ? WHERE id = ?').run(patch.generation, id);
    if (patch.lost !== undefined)
      this.db.prepare('UPDATE recoveries SET lost_json = ? WHERE id = ?').run(JSON.stringify(patch.lost), id);
    if (patch.detail !== undefined)
      this.db.prepare('UPDATE recoveries SET detail = ? WHERE id = ?').run(patch.detail, id);
  }

  planRecovery(
    id: number,
    p: Pick<RecoveryRow, 'generation' | 'tookOver' | 'restoredFrom' | 'resumeStep' | 'layout'>,
  ): void {
    this.db
      .prepare(
        'UPDATE recoveries SET generation = ?, took_over_json = ?, restored_from = ?, resume_step = ?, layout_json = ? WHERE id = ?',
      )
      .run(p.generation, JSON.stringify(p.tookOver), p.restoredFrom, p.resumeStep, JSON.stringify(p.layout), id);
  }

  finishRecovery(id: number, restoredFrom: string): void {
    this.db
      .prepare('UPDATE recoveries SET finished_at = ?, restored_from = COALESCE(restored_from, ?) WHERE id = ?')
      .run(Date.now(), restoredFrom, id);
  }

  recoveries(runId: string, limit = 200): RecoveryRow[] {
    return (
      this.db.prepare('SELECT * FROM recoveries WHERE run_id = ? ORDER BY id DESC LIMIT ?').all(runId, limit) as Row[]
    ).map(toRecovery);
  }

  // ---- samples
  addSample(runId: string, step: number, prompt: string, text: string): void {
    this.db
      .prepare('INSERT INTO samples (run_id, step, prompt, text, at) VALUES (?, ?, ?, ?, ?)')
      .run(runId, step, prompt, text, Date.now());
  }

  /** the newest samples first */
  samples(runId: string, limit = 20): { step: number; prompt: string; text: string; at: number }[] {
    return this.db
      .prepare('SELECT step, prompt, text, at FROM samples WHERE run_id = ? ORDER BY id DESC LIMIT ?')
      .all(runId, limit) as never;
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
