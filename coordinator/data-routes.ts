// The data API of a run (mounted at /api/runs/:id/data, after the JSON body parser):
//
//   GET  /                 the manifest (src/data/http-files.ts DataManifest): each file the config
//                          names, its kind (indexed | text), dtype, counts, part sizes and version
//   POST /read             {file, part: "idx" | "bin" | "tokens", ranges: [[offset, length], ...]}
//                          → application/octet-stream: the ranges' bytes concatenated, read from disk
//                          for this request; x-tabtron-sha256: the SHA-256 of the body
//
// Who: the admin token (Authorization: Bearer) or a participant of the run (x-tabtron-participant +
// x-tabtron-secret, as for checkpoints). A request may ask for at most MAX_READ_RANGES ranges and
// MAX_READ_BYTES bytes; a range past the end of its file is refused (400 out_of_range), a file that
// changed on disk since the run started too (409 data_changed).

import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { DATA_SHA256_HEADER, MAX_READ_BYTES, MAX_READ_RANGES } from '../src/data/http-files';
import { describeZodError, IdSchema } from '../src/protocol';
import { HttpError, badRequest, notFound } from './errors';
import { hashSecret, sameSecret } from './ids';
import type { RunManager } from './lifecycle';
import type { RunData } from './run-data';
import type { Run } from './store';

export interface DataRouteOptions {
  runs: RunManager;
  data: RunData;
  adminToken: string;
}

const ReadSchema = z.object({
  file: z.number().int().min(0),
  part: z.enum(['idx', 'bin', 'tokens']),
  ranges: z
    .array(z.tuple([z.number().int().min(0), z.number().int().min(0)]))
    .min(1)
    .max(MAX_READ_RANGES),
});

const handle =
  (fn: (req: Request, res: Response) => Promise<void> | void) => (req: Request, res: Response, next: NextFunction) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch(next);
  };

export function dataRouter(o: DataRouteOptions): express.Router {
  const r = express.Router({ mergeParams: true });

  /** The run, once the caller is the admin or one of its participants. */
  const authorizedRun = (req: Request): Run => {
    const id = req.params.id;
    if (!IdSchema.safeParse(id).success) throw notFound(`run ${JSON.stringify(String(id).slice(0, 80))}`);
    const run = o.runs.getRun(id);
    const header = req.get('authorization') ?? '';
    if (header.startsWith('Bearer ')) {
      if (!sameSecret(header.slice(7), o.adminToken)) throw new HttpError(403, 'bad_admin_token', 'wrong admin token');
      return run;
    }
    const pid = req.get('x-tabtron-participant'),
      secret = req.get('x-tabtron-secret');
    if (!pid || !secret)
      throw new HttpError(
        401,
        'credentials_required',
        'run data needs the admin token (Authorization: Bearer) or a participant’s x-tabtron-participant and x-tabtron-secret headers',
      );
    const p = o.runs.store.getParticipant(pid);
    if (!p || p.runId !== run.id || p.state === 'left' || hashSecret(secret) !== p.secretHash)
      throw new HttpError(
        403,
        'bad_credentials',
        `unknown participant or wrong secret for ${pid.slice(0, 80)} in run ${run.id}`,
      );
    return run;
  };

  r.get(
    '/',
    handle((req, res) => {
      res.json(o.data.manifest(authorizedRun(req)));
    }),
  );

  r.post(
    '/read',
    handle(async (req, res) => {
      const run = authorizedRun(req);
      const parsed = ReadSchema.safeParse(req.body ?? {});
      if (!parsed.success) throw badRequest('invalid_request', `data read: ${describeZodError(parsed.error)}`);
      const { file, part, ranges } = parsed.data;
      const bytes = ranges.reduce((a, [, n]) => a + n, 0);
      if (bytes > MAX_READ_BYTES)
        throw badRequest('too_many_bytes', `data read: ${bytes} bytes asked, at most ${MAX_READ_BYTES} per request`);
      const body = await o.data.read(run, file, part, ranges);
      res
        .set({
          'content-type': 'application/octet-stream',
          [DATA_SHA256_HEADER]: createHash('sha256').update(body).digest('hex'),
          'cache-control': 'no-store',
        })
        .send(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    }),
  );

  r.use((req, _res, next) =>
    next(new HttpError(404, 'no_such_endpoint', `no API endpoint ${req.method} ${req.baseUrl}${req.path}`)),
  );
  return r;
}
