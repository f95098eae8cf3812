// The checkpoint API of a run (mounted at /api/runs/:id/checkpoints, before the JSON body parser):
//
//   GET /                              {source, latest, iterations: [{iteration, step, files, bytes, createdAt}]}
//   GET /:iteration/manifest           manifest.json; :iteration is a number or "latest"
//   GET /:iteration/files/:file        the file (application/octet-stream, x-tabtron-sha256 header)
//   PUT /:iteration/files/:file        body: a rank file; x-tabtron-sha256 (or ?sha256=) required,
//                                      x-tabtron-layout (JSON) optional → 201 {iteration, file, complete, missing}
//
// GETs take ?source=save (default) or ?source=load (the run's NeoX `load` directory, read-only).
// Who: the admin token (Authorization: Bearer), or a participant of the run by its credentials
// (x-tabtron-participant + x-tabtron-secret, as in its WebSocket hello); a participant may PUT
// only the file of the rank it holds. A body whose SHA-256 differs from the header, a file of
// another layout than the run's, or any PUT into an iteration that is already complete is
// refused (4xx naming the file and rank); a complete checkpoint is never overwritten. Pending
// files of an incomplete iteration that do not fit the new one (an abandoned attempt) are
// removed (CheckpointWriter) and logged.

import express, { type NextFunction, type Request, type Response } from 'express';
import {
  CheckpointError,
  layoutText,
  rankOfFileName,
  sameLayout,
  type CheckpointErrorCode,
} from '../src/checkpoint/layout';
import {
  LAYOUT_HEADER,
  PARTICIPANT_HEADER,
  SECRET_HEADER,
  SHA256_HEADER,
  type CheckpointList,
} from '../src/checkpoint/http-store';
import { LayoutSchema, parseWith } from '../src/checkpoint/schemas';
import { IdSchema } from '../src/protocol';
import { CheckpointSourceSchema } from './api-schemas';
import type { RunCheckpoints } from './checkpoints';
import { HttpError, badRequest, notFound } from './errors';
import { hashSecret, sameSecret } from './ids';
import type { RunManager } from './lifecycle';
import type { Run } from './store';
import type { Logger } from './telemetry';

export interface CheckpointRouteOptions {
  runs: RunManager;
  checkpoints: RunCheckpoints;
  adminToken: string;
  log: Logger;
  /** largest rank file a PUT may carry */
  maxFileBytes: number;
}

type Caller = { kind: 'admin' } | { kind: 'participant'; id: string; rank: number | null };

const STATUS: Record<CheckpointErrorCode, [number, string]> = {
  checksum_mismatch: [400, 'checksum_mismatch'],
  checkpoint_complete: [409, 'checkpoint_complete'],
  invalid_file: [400, 'invalid_checkpoint_file'],
  layout_mismatch: [409, 'layout_mismatch'],
  not_found: [404, 'no_checkpoint'],
  incompatible: [400, 'incompatible'],
  read_only: [403, 'read_only'],
  invalid_manifest: [500, 'invalid_manifest'],
};

function asHttp(e: unknown): unknown {
  if (!(e instanceof CheckpointError)) return e;
  const [status, code] = STATUS[e.code];
  return new HttpError(status, code, e.message);
}

const handle =
  (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
    fn(req, res).catch((e) => next(asHttp(e)));
  };

export function checkpointRouter(o: CheckpointRouteOptions): express.Router {
  const r = express.Router({ mergeParams: true });

  const run = (req: Request): Run => {
    const id = req.params.id;
    if (!IdSchema.safeParse(id).success) throw notFound(`run ${JSON.stringify(String(id).slice(0, 80))}`);
    return o.runs.getRun(id);
  };

  const caller = (req: Request, runId: string): Caller => {
    const header = req.get('authorization') ?? '';
    if (header.startsWith('Bearer ')) {
      if (!sameSecret(header.slice(7), o.adminToken)) throw new HttpError(403, 'bad_admin_token', 'wrong admin token');
      return { kind: 'admin' };
    }
    const id = req.get(PARTICIPANT_HEADER),
      secret = req.get(SECRET_HEADER);
    if (!id || !secret) {
      throw new HttpError(
        401,
        'credentials_required',
        `checkpoints need the admin token (Authorization: Bearer) or a participant's ${PARTICIPANT_HEADER} and ${SECRET_HEADER} headers`,
      );
    }
    const p = o.runs.store.getParticipant(id);
    if (!p || p.runId !== runId || p.state === 'left' || hashSecret(secret) !== p.secretHash) {
      throw new HttpError(
        403,
        'bad_credentials',
        `unknown participant or wrong secret for ${id.slice(0, 80)} in run ${runId}`,
      );
    }
    return { kind: 'participant', id: p.id, rank: p.rank };
  };

  const source = (req: Request) => {
    const s = CheckpointSourceSchema.safeParse(req.query.source ?? 'save');
    if (!s.success)
      throw badRequest('invalid_request', `source must be "save" or "load", got ${JSON.stringify(req.query.source)}`);
    return s.data;
  };

  const iterationOf = async (req: Request, latest: () => Promise<number | null>): Promise<number> => {
    const raw = req.params.iteration;
    if (raw === 'latest') {
      const it = await latest();
      if (it === null) throw new HttpError(404, 'no_checkpoint', `run ${req.params.id} has no complete checkpoint yet`);
      return it;
    }
    if (!/^\d{1,12}$/.test(raw))
      throw badRequest(
        'invalid_request',
        `iteration must be a non-negative integer or "latest", got ${JSON.stringify(raw.slice(0, 40))}`,
      );
    return Number(raw);
  };

  r.get(
    '/',
    handle(async (req, res) => {
      const rn = run(req);
      caller(req, rn.id);
      const src = source(req);
      const { store } = o.checkpoints.store(rn, src);
      const iterations = [];
      for (const it of await store.iterations()) {
        const m = (await store.manifest(it))!;
        iterations.push({
          iteration: it,
          step: m.step,
          files: m.files.length,
          bytes: m.files.reduce((a, f) => a + f.bytes, 0),
          createdAt: m.createdAt,
        });
      }
      const out: CheckpointList = { source: src, latest: await store.latest(), iterations };
      res.json(out);
    }),
  );

  /** The run's store (save or load directory), the iteration asked for and its manifest; 404 while incomplete. */
  const completeCheckpoint = async (req: Request) => {
    const rn = run(req);
    caller(req, rn.id);
    const { store } = o.checkpoints.store(rn, source(req));
    const it = await iterationOf(req, () => store.latest());
    const m = await store.manifest(it);
    if (!m)
      throw new HttpError(
        404,
        'no_checkpoint',
        `run ${rn.id}: iteration ${it} has no complete checkpoint (${source(req)} directory)`,
      );
    return { rn, store, it, m };
  };

  r.get(
    '/:iteration/manifest',
    handle(async (req, res) => {
      res.json((await completeCheckpoint(req)).m);
    }),
  );

  r.get(
    '/:iteration/files/:file',
    handle(async (req, res) => {
      const { rn, store, it, m } = await completeCheckpoint(req);
      const entry = m.files.find((f) => f.name === req.params.file);
      if (!entry)
        throw new HttpError(
          404,
          'no_checkpoint',
          `run ${rn.id}: iteration ${it} has no file ${JSON.stringify(req.params.file.slice(0, 80))}`,
        );
      const bytes = await store.get(it, entry.name);
      res
        .set({ 'content-type': 'application/octet-stream', [SHA256_HEADER]: entry.sha256 })
        .send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    }),
  );

  r.put(
    '/:iteration/files/:file',
    handle(async (req, res) => {
      const rn = run(req);
      const who = caller(req, rn.id);
      const file = req.params.file;
      const rank = rankOfFileName(file);
      if (rank === null)
        throw badRequest(
          'invalid_request',
          `${JSON.stringify(file.slice(0, 80))} is not a rank file name (rank_NNNNN.safetensors)`,
        );
      if (who.kind === 'participant' && who.rank !== rank) {
        throw new HttpError(
          403,
          'wrong_rank',
          `participant ${who.id} holds ${who.rank === null ? 'no rank' : `rank ${who.rank}`}, so it may not write ${file} (rank ${rank})`,
        );
      }
      const it = await iterationOf(req, async () => null);
      const sha256 = String(req.get(SHA256_HEADER) ?? req.query.sha256 ?? '').toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(sha256))
        throw badRequest(
          'checksum_required',
          `${file} (rank ${rank}): the ${SHA256_HEADER} header (or ?sha256=) must give the file's SHA-256 as 64 hex digits`,
        );
      const layout = o.checkpoints.layout(rn);
      const stated = req.get(LAYOUT_HEADER);
      if (stated !== undefined) {
        let said: ReturnType<typeof o.checkpoints.layout>;
        try {
          said = parseWith(LayoutSchema, JSON.parse(stated), `${LAYOUT_HEADER} header`, 'invalid_file');
        } catch (e) {
          throw badRequest(
            'invalid_request',
            e instanceof CheckpointError ? e.message : `${LAYOUT_HEADER} header is not JSON`,
          );
        }
        if (!sameLayout(said, layout))
          throw new HttpError(
            409,
            'layout_mismatch',
            `${file} (rank ${rank}): the writer saved for ${layoutText(said)}, but run ${rn.id} is ${layoutText(layout)}`,
          );
      }
      const body = await readBody(req, o.maxFileBytes, `${file} (rank ${rank})`);
      const { store } = o.checkpoints.store(rn, 'save');
      const result = await store.put(it, file, body, { sha256, layout });
      o.runs.metrics.addCheckpoint(rn.id, { rank, step: it, name: file, bytes: body.length, sha256 });
      if (result.discarded.length) {
        o.runs.store.addEvent(
          rn.id,
          'checkpoint-discarded',
          `iteration ${it}: ${result.discarded.join(', ')} (an earlier attempt that does not fit ${file})`,
        );
        o.log.warn(
          { run: rn.id, iteration: it, discarded: result.discarded },
          'checkpoint: removed files of an abandoned attempt',
        );
      }
      if (result.complete) {
        o.runs.store.addEvent(
          rn.id,
          'checkpoint',
          `iteration ${it} complete: ${layout.world} ranks, ${(await store.manifest(it))!.files.length} files`,
        );
        o.log.info({ run: rn.id, iteration: it }, 'checkpoint complete');
      }
      res.status(201).json(result);
    }),
  );

  r.use((req, _res, next) =>
    next(new HttpError(404, 'no_such_endpoint', `no API endpoint ${req.method} ${req.baseUrl}${req.path}`)),
  );
  return r;
}

/** The raw body, at most `limit` bytes (413 past it), without a second copy for the hash. */
function readBody(req: Request, limit: number, what: string): Promise<Uint8Array> {
  const declared = Number(req.get('content-length') ?? NaN);
  const tooBig = () =>
    new HttpError(
      413,
      'body_too_large',
      `${what}: the body is over ${limit} bytes, the largest checkpoint file this coordinator takes`,
    );
  if (declared > limit) return Promise.reject(tooBig());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooBig());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      const all = Buffer.concat(chunks, size);
      resolve(new Uint8Array(all.buffer, all.byteOffset, all.byteLength));
    });
    req.on('error', reject);
  });
}
