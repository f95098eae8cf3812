// A CheckpointStore that is the coordinator's checkpoint API (fetch only: pages and workers).
//
//   PUT /api/runs/:id/checkpoints/:iteration/files/:file      body: the rank file's bytes
//       x-tabtron-sha256: <hex>   x-tabtron-layout: {"tp":..,"pp":..,"dp":..,"zeroStage":..,"world":..}
//   GET /api/runs/:id/checkpoints                              {latest, iterations: [...]}
//   GET /api/runs/:id/checkpoints/:iteration/manifest          manifest.json (:iteration may be "latest")
//   GET /api/runs/:id/checkpoints/:iteration/files/:file       the file's bytes
// `?source=load` reads the run's NeoX `load` directory instead of its `save` directory.
// Auth: a rank holder's participant credentials (x-tabtron-participant, x-tabtron-secret) or
// the admin token (Authorization: Bearer). Non-2xx answers are {error: {code, message}}.

import { parseManifest, type Manifest } from './manifest';
import type { CheckpointStore, PutInfo, PutResult } from './store';

export type CheckpointAuth = { adminToken: string } | { participantId: string; secret: string };

export interface HttpStoreOptions {
  coordinatorUrl: string;
  runId: string;
  auth: CheckpointAuth;
  /** which of the run's directories: `save` (default; writable) or `load` (read-only) */
  source?: 'save' | 'load';
  fetch?: typeof fetch;
}

export interface IterationSummary {
  iteration: number;
  step: number;
  files: number;
  bytes: number;
  createdAt: string;
}

export interface CheckpointList {
  source: 'save' | 'load';
  latest: number | null;
  iterations: IterationSummary[];
}

export class CheckpointHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointHttpError';
  }
}

export const SHA256_HEADER = 'x-tabtron-sha256';
export const LAYOUT_HEADER = 'x-tabtron-layout';
export const PARTICIPANT_HEADER = 'x-tabtron-participant';
export const SECRET_HEADER = 'x-tabtron-secret';

export class HttpCheckpointStore implements CheckpointStore {
  private readonly fetch: typeof fetch;
  constructor(readonly o: HttpStoreOptions) {
    this.fetch = o.fetch ?? ((...a) => fetch(...a));
  }

  async put(iteration: number, fileName: string, bytes: Uint8Array, info: PutInfo): Promise<PutResult> {
    const res = await this.call(
      'PUT',
      `${iteration}/files/${encodeURIComponent(fileName)}`,
      {
        body: bytes as Uint8Array<ArrayBuffer>,
        headers: {
          'content-type': 'application/octet-stream',
          [SHA256_HEADER]: info.sha256,
          [LAYOUT_HEADER]: JSON.stringify(info.layout),
        },
      },
      `PUT ${fileName} of iteration ${iteration}`,
    );
    return (await res.json()) as PutResult;
  }

  async get(iteration: number, fileName: string): Promise<Uint8Array> {
    const res = await this.call(
      'GET',
      `${iteration}/files/${encodeURIComponent(fileName)}`,
      {},
      `GET ${fileName} of iteration ${iteration}`,
    );
    return new Uint8Array(await res.arrayBuffer());
  }

  async manifest(iteration: number): Promise<Manifest | null> {
    const res = await this.call('GET', `${iteration}/manifest`, {}, `GET the manifest of iteration ${iteration}`, true);
    return (
      res &&
      parseManifest(await res.text(), `${this.o.coordinatorUrl} run ${this.o.runId} iteration ${iteration} manifest`)
    );
  }

  async list(): Promise<CheckpointList> {
    return (await (await this.call('GET', '', {}, 'GET the checkpoint list')).json()) as CheckpointList;
  }

  async latest(): Promise<number | null> {
    return (await this.list()).latest;
  }

  async iterations(): Promise<number[]> {
    return (await this.list()).iterations.map((i) => i.iteration);
  }

  private call(
    method: string,
    path: string,
    init: RequestInit,
    what: string,
    nullOn404: true,
  ): Promise<Response | null>;
  private call(method: string, path: string, init: RequestInit, what: string): Promise<Response>;
  private async call(
    method: string,
    path: string,
    init: RequestInit,
    what: string,
    nullOn404 = false,
  ): Promise<Response | null> {
    const url = new URL(
      `/api/runs/${encodeURIComponent(this.o.runId)}/checkpoints${path ? `/${path}` : ''}`,
      this.o.coordinatorUrl,
    );
    if (this.o.source === 'load') url.searchParams.set('source', 'load');
    const auth: Record<string, string> =
      'adminToken' in this.o.auth
        ? { authorization: `Bearer ${this.o.auth.adminToken}` }
        : { [PARTICIPANT_HEADER]: this.o.auth.participantId, [SECRET_HEADER]: this.o.auth.secret };
    let res: Response;
    try {
      res = await this.fetch(url, {
        ...init,
        method,
        headers: { ...auth, ...(init.headers as Record<string, string> | undefined) },
      });
    } catch (e) {
      throw new CheckpointHttpError(
        0,
        'unreachable',
        `${what}: cannot reach the coordinator at ${this.o.coordinatorUrl}: ${(e as Error).message}`,
      );
    }
    if (res.ok) return res;
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    if (nullOn404 && res.status === 404 && body?.error?.code === 'no_checkpoint') return null;
    throw new CheckpointHttpError(
      res.status,
      body?.error?.code ?? 'http_error',
      `${what}: ${body?.error?.message ?? `HTTP ${res.status}`}`,
    );
  }
}
