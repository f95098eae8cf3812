// The admin page's client for the coordinator's admin API (Bearer admin token).

import type { CreateRunResponse, MetricsResponse, RunDetail, RunSummary } from '../../coordinator/api-schemas';
import { ApiErrorSchema } from '../protocol';

export type { CreateRunResponse, MetricsResponse, RunDetail, RunSummary };

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AdminApiError';
  }
}

export class AdminApi {
  constructor(
    private readonly token: string,
    private readonly base = location.origin,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(new URL(path, this.base), {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data: unknown = await res.json().catch(() => null);
    if (!res.ok) {
      const e = ApiErrorSchema.safeParse(data);
      throw e.success
        ? new AdminApiError(res.status, e.data.error.code, e.data.error.message)
        : new AdminApiError(res.status, 'http_error', `HTTP ${res.status}`);
    }
    return data as T;
  }

  runs(): Promise<{ runs: RunSummary[] }> {
    return this.call('GET', '/api/runs');
  }
  run(id: string): Promise<RunDetail> {
    return this.call('GET', `/api/runs/${encodeURIComponent(id)}`);
  }
  metrics(id: string, after: number): Promise<MetricsResponse> {
    return this.call('GET', `/api/runs/${encodeURIComponent(id)}/metrics?after=${after}`);
  }
  action(id: string, action: 'pause' | 'resume' | 'stop'): Promise<{ run: RunSummary }> {
    return this.call('POST', `/api/runs/${encodeURIComponent(id)}/${action}`);
  }
  create(body: { name?: string; configs: { file: string; text: string }[]; dp?: number }): Promise<CreateRunResponse> {
    return this.call('POST', '/api/runs', body);
  }
}
