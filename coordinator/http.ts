// The HTTP API (express). Every body and query is checked with zod; every error is
// `{error: {code, message}}` with the status that says what went wrong.

import express, { type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { z } from 'zod';
import { IdSchema, JoinRequestSchema, describeZodError } from '../src/protocol';
import { checkpointRouter } from './checkpoint-routes';
import { dataRouter } from './data-routes';
import type { RunData } from './run-data';
import type { RunCheckpoints } from './checkpoints';
import {
  CreateRunSchema,
  MAX_BODY_BYTES,
  MetricsQuerySchema,
  type CreateRunResponse,
  type MetricsResponse,
} from './api-schemas';
import { HttpError, notFound } from './errors';
import { sameSecret } from './ids';
import type { RunManager } from './lifecycle';
import type { Logger, Telemetry } from './telemetry';
import { runDetail, runSummary } from './views';

export interface HttpOptions {
  runs: RunManager;
  telemetry: Telemetry;
  log: Logger;
  adminToken: string;
  /** Joins allowed per client IP per window. */
  joinRateLimit: { windowMs: number; limit: number };
  checkpoints: RunCheckpoints;
  /** largest rank checkpoint file a PUT may carry */
  checkpointMaxBytes: number;
  /** the runs' datasets (coordinator/run-data.ts) */
  data: RunData;
}

function parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (!r.success) throw new HttpError(400, 'invalid_request', `${what}: ${describeZodError(r.error)}`);
  return r.data;
}

function runIdParam(req: Request): string {
  const id = req.params.id;
  if (!IdSchema.safeParse(id).success) throw notFound(`run ${JSON.stringify(String(id).slice(0, 80))}`);
  return id;
}

function requireAdmin(token: string) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.get('authorization') ?? '';
    const given = header.startsWith('Bearer ') ? header.slice(7) : req.get('x-admin-token');
    if (!given)
      return next(
        new HttpError(
          401,
          'admin_token_required',
          'this endpoint needs the admin token (Authorization: Bearer <token>)',
        ),
      );
    if (!sameSecret(given, token)) return next(new HttpError(403, 'bad_admin_token', 'wrong admin token'));
    next();
  };
}

/** POST bodies must be JSON: anything else is refused before parsing. */
function requireJson(req: Request, _res: Response, next: NextFunction) {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (hasBody && !req.is('application/json')) {
    return next(new HttpError(415, 'unsupported_media_type', 'request bodies must be application/json'));
  }
  next();
}

export function createApiRouter(o: HttpOptions): express.Router {
  const { runs } = o;
  const api = express.Router();
  const admin = requireAdmin(o.adminToken);
  // Checkpoint files are binary bodies: their routes come before the JSON-only parser.
  api.use(
    '/runs/:id/checkpoints',
    checkpointRouter({
      runs,
      checkpoints: o.checkpoints,
      adminToken: o.adminToken,
      log: o.log,
      maxFileBytes: o.checkpointMaxBytes,
    }),
  );
  api.use(requireJson, express.json({ limit: MAX_BODY_BYTES, strict: true }));

  api.use('/runs/:id/data', dataRouter({ runs, data: o.data, adminToken: o.adminToken }));

  api.get('/health', (_req, res) => {
    res.json({ ok: true });
  });

  api.post('/runs', admin, (req, res) => {
    const body = parse(CreateRunSchema, req.body ?? {}, 'create run');
    const { run, warnings } = runs.createRun({ name: body.name, sources: body.configs, dp: body.dp });
    const out: CreateRunResponse = {
      run: runSummary(runs, run),
      joinToken: run.joinToken,
      warnings,
      joinPath: `/?run=${run.id}&token=${encodeURIComponent(run.joinToken)}`,
    };
    res.status(201).json(out);
  });

  api.get('/runs', admin, (_req, res) => {
    res.json({ runs: runs.store.listRuns().map((r) => runSummary(runs, r)) });
  });

  api.get('/runs/:id', admin, (req, res) => {
    res.json(runDetail(runs, runs.getRun(runIdParam(req))));
  });

  api.get('/runs/:id/metrics', admin, (req, res) => {
    const run = runs.getRun(runIdParam(req));
    const q = parse(MetricsQuerySchema, req.query, 'metrics query');
    const points = runs.metrics.since(run.id, q.after, q.limit);
    const out: MetricsResponse = {
      points,
      last: points.at(-1)?.id ?? q.after,
      spans: runs.metrics.recentSpans(run.id),
    };
    res.json(out);
  });

  for (const action of ['pause', 'resume', 'stop'] as const) {
    api.post(`/runs/:id/${action}`, admin, (req, res) => {
      const run = runs[action](runIdParam(req));
      o.log.info({ run: run.id, action }, 'admin action');
      res.json({ run: runSummary(runs, run) });
    });
  }

  const joinLimiter = rateLimit({
    windowMs: o.joinRateLimit.windowMs,
    limit: o.joinRateLimit.limit,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => {
      o.telemetry.joins.inc({ result: 'rate_limited' });
      next(
        new HttpError(
          429,
          'rate_limited',
          `too many joins from this address: at most ${o.joinRateLimit.limit} per ${o.joinRateLimit.windowMs / 1000} s`,
        ),
      );
    },
  });
  api.post('/runs/:id/join', joinLimiter, (req, res) => {
    const id = runIdParam(req);
    const body = parse(JoinRequestSchema, req.body ?? {}, 'join');
    try {
      const out = runs.join(id, body, req.ip ?? '');
      o.telemetry.joins.inc({ result: 'ok' });
      res.status(201).json(out);
    } catch (e) {
      o.telemetry.joins.inc({ result: e instanceof HttpError ? e.code : 'error' });
      throw e;
    }
  });

  api.use((req, _res, next) =>
    next(new HttpError(404, 'no_such_endpoint', `no API endpoint ${req.method} ${req.baseUrl}${req.path}`)),
  );
  return api;
}

/** Turns thrown errors (ours, body-parser's, anything else) into JSON answers. */
export function errorHandler(log: Logger) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as { type?: string; status?: number; message?: string };
    let status = 500,
      code = 'internal',
      message = 'internal error';
    if (err instanceof HttpError) ({ status, code, message } = err);
    else if (e.type === 'entity.too.large')
      [status, code, message] = [413, 'body_too_large', `request body over ${MAX_BODY_BYTES} bytes`];
    else if (e.type === 'entity.parse.failed')
      [status, code, message] = [400, 'invalid_json', `malformed JSON body: ${e.message}`];
    else if (typeof e.status === 'number' && e.status >= 400 && e.status < 500)
      [status, code, message] = [e.status, 'bad_request', e.message ?? 'bad request'];
    if (status >= 500) log.error({ err, url: req.originalUrl }, 'request failed');
    res.status(status).json({ error: { code, message } });
  };
}

/** Counts and times every request; logs those that fail. */
export function requestMetrics(t: Telemetry, log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = t.httpSeconds.startTimer();
    res.on('finish', () => {
      const api = req.originalUrl.startsWith('/api/');
      const route = req.route?.path ? `${api ? '/api' : ''}${req.route.path}` : api ? '/api/(unmatched)' : 'static';
      end({ route });
      t.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      if (res.statusCode >= 400)
        log.info({ method: req.method, url: req.originalUrl.slice(0, 200), status: res.statusCode }, 'http');
    });
    next();
  };
}
