// Prometheus metrics (prom-client) and JSON-lines logs (pino). Gauges are read from
// SQLite at scrape time, so /metrics and the admin page can never disagree.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import pino, { type Logger } from 'pino';
import type { DB } from './db';

export type { Logger };

export function createLogger(
  level = process.env.TABTRON_LOG_LEVEL ?? 'info',
  destination?: pino.DestinationStream,
): Logger {
  return pino({ base: { svc: 'coordinator' }, level, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}

export interface Telemetry {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpSeconds: Histogram<'route'>;
  joins: Counter<'result'>;
  wsMessages: Counter<'type'>;
  wsRejected: Counter<'reason'>;
}

export function createTelemetry(db: DB): Telemetry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tabtron_' });
  const reg = [registry];

  const fromDb = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    sql: string,
    label: (row: Record<string, unknown>) => Record<L, string>,
  ) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: reg,
      collect() {
        this.reset();
        for (const row of db.prepare(sql).all() as Record<string, unknown>[]) this.set(label(row), Number(row.v));
      },
    });

  fromDb('tabtron_runs', 'Runs by state', ['state'], 'SELECT state, COUNT(*) AS v FROM runs GROUP BY state', (r) => ({
    state: String(r.state),
  }));
  fromDb(
    'tabtron_participants',
    'Participants of live runs by state',
    ['run', 'state'],
    "SELECT p.run_id, p.state, COUNT(*) AS v FROM participants p JOIN runs r ON r.id = p.run_id WHERE r.state != 'stopped' GROUP BY p.run_id, p.state",
    (r) => ({ run: String(r.run_id), state: String(r.state) }),
  );
  fromDb(
    'tabtron_run_step',
    'Latest training step reported',
    ['run'],
    "SELECT id, step AS v FROM runs WHERE state != 'stopped'",
    (r) => ({ run: String(r.id) }),
  );
  fromDb(
    'tabtron_train_loss',
    'Latest training loss (mean over reporting ranks of the latest step)',
    ['run'],
    `SELECT m.run_id, AVG(m.value) AS v FROM metrics m
       JOIN (SELECT run_id, MAX(step) AS s FROM metrics WHERE name = 'loss' GROUP BY run_id) last ON last.run_id = m.run_id AND last.s = m.step
       JOIN runs r ON r.id = m.run_id WHERE m.name = 'loss' AND r.state != 'stopped' GROUP BY m.run_id`,
    (r) => ({ run: String(r.run_id) }),
  );
  fromDb(
    'tabtron_tokens_per_second',
    "Tokens per second of the latest step (the whole step's tokens over its time, mean over reporting ranks)",
    ['run'],
    `SELECT m.run_id, AVG(m.value) AS v FROM metrics m
       JOIN (SELECT run_id, MAX(step) AS s FROM metrics WHERE name = 'tokens_per_sec' GROUP BY run_id) last ON last.run_id = m.run_id AND last.s = m.step
       JOIN runs r ON r.id = m.run_id WHERE m.name = 'tokens_per_sec' AND r.state != 'stopped' GROUP BY m.run_id`,
    (r) => ({ run: String(r.run_id) }),
  );
  // membership changes (coordinator/generations.ts), finished ones, from the recoveries table
  const finished = "FROM recoveries WHERE finished_at IS NOT NULL AND cause != 'start'";
  fromDb(
    'tabtron_recoveries_total',
    'Membership changes recovered from, by cause and where the state came from',
    ['run', 'cause', 'restored_from'],
    `SELECT run_id, cause, restored_from, COUNT(*) AS v ${finished} GROUP BY run_id, cause, restored_from`,
    (r) => ({ run: String(r.run_id), cause: String(r.cause), restored_from: String(r.restored_from ?? 'none') }),
  );
  fromDb(
    'tabtron_rollback_steps_total',
    'Finished steps given up by rolling back to an earlier state',
    ['run'],
    `SELECT run_id, SUM(MAX(0, committed_step - COALESCE(resume_step, committed_step))) AS v ${finished} GROUP BY run_id`,
    (r) => ({ run: String(r.run_id) }),
  );
  fromDb(
    'tabtron_recovery_seconds_total',
    'Seconds from noticing a membership change to training again, summed',
    ['run'],
    `SELECT run_id, SUM(finished_at - started_at) / 1000.0 AS v ${finished} GROUP BY run_id`,
    (r) => ({ run: String(r.run_id) }),
  );
  fromDb(
    'tabtron_generation',
    'Membership generation each live run trains in',
    ['run'],
    "SELECT id, generation AS v FROM runs WHERE state != 'stopped'",
    (r) => ({ run: String(r.id) }),
  );

  return {
    registry,
    httpRequests: new Counter({
      name: 'tabtron_http_requests_total',
      help: 'HTTP requests',
      labelNames: ['method', 'route', 'status'],
      registers: reg,
    }),
    httpSeconds: new Histogram({
      name: 'tabtron_http_request_seconds',
      help: 'HTTP request latency',
      labelNames: ['route'],
      registers: reg,
      buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2],
    }),
    joins: new Counter({
      name: 'tabtron_joins_total',
      help: 'Join attempts by result',
      labelNames: ['result'],
      registers: reg,
    }),
    wsMessages: new Counter({
      name: 'tabtron_ws_messages_total',
      help: 'Valid WebSocket messages from tabs by type',
      labelNames: ['type'],
      registers: reg,
    }),
    wsRejected: new Counter({
      name: 'tabtron_ws_rejected_total',
      help: 'WebSocket messages rejected',
      labelNames: ['reason'],
      registers: reg,
    }),
  };
}
