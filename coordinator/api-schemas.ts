// The admin HTTP API's request schemas and response shapes (the admin page imports the types).

import { z } from 'zod';
import type { Coords, DeviceInfo } from '../src/protocol';
import type { CheckpointRow, MetricPoint, SpanRow } from './metrics-store';
import type { ParticipantState, RunState } from './store';
import type { ElasticLayout } from '../src/protocol';
import type { RecoveryRow } from './store';

export const MAX_BODY_BYTES = 512 * 1024;
/** Default for the largest rank checkpoint file a PUT may carry (`--checkpoint-max-bytes`). */
export const MAX_CHECKPOINT_FILE_BYTES = 2 ** 30;

/** Which of a run's checkpoint directories a GET reads: NeoX `save` (default) or `load`. */
export const CheckpointSourceSchema = z.enum(['save', 'load']);

export const CreateRunSchema = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  /** NeoX YAML files in merge order (later keys win), as NeoX takes several --conf files. */
  configs: z
    .array(
      z.strictObject({
        file: z.string().min(1).max(200),
        text: z
          .string()
          .min(1)
          .max(256 * 1024),
      }),
    )
    .min(1)
    .max(16),
  /** Data-parallel replicas (default: global_num_gpus / (pp·tp), else 1); world = dp·pp·tp. */
  dp: z.number().int().min(1).max(1024).optional(),
});
export type CreateRun = z.infer<typeof CreateRunSchema>;

export const MetricsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(20000).default(5000),
});

export interface RunSummary {
  id: string;
  name: string;
  state: RunState;
  stateReason: string;
  paused: boolean;
  step: number;
  /** the configured layout's sizes (all replicas) */
  sizes: { tp: number; pp: number; dp: number; world: number };
  /** the membership generation and the layout it trains in (fewer replicas while some are missing) */
  generation: number;
  layout: ElasticLayout | null;
  held: number;
  ready: number;
  standbys: number;
  createdAt: number;
}

export interface ParticipantView {
  id: string;
  peerId: string;
  state: ParticipantState;
  rank: number | null;
  connected: boolean;
  device: DeviceInfo;
  joinedAt: number;
  lastSeenAt: number;
  leftAt: number | null;
}

export interface GridCell extends Coords {
  rank: number;
  participant: ParticipantView | null;
}

export interface RunDetail {
  run: RunSummary;
  joinToken: string;
  config: Record<string, unknown>;
  plan: Record<string, unknown>;
  sources: { file: string; text: string }[];
  grid: GridCell[];
  /** Everyone who ever joined, in join order (standbys and departed included). */
  participants: ParticipantView[];
  checkpoints: CheckpointRow[];
  events: { at: number; kind: string; detail: string }[];
  /** membership changes, newest first (coordinator/generations.ts) */
  recoveries: RecoveryRow[];
  /** what the model wrote at its latest evaluations, newest first */
  samples: { step: number; prompt: string; text: string; at: number }[];
}

export interface MetricsResponse {
  points: MetricPoint[];
  /** id to pass as `after` for the next page */
  last: number;
  spans: SpanRow[];
}

/** GET /api/runs/:id/checkpoints, and PUT .../:iteration/files/:file's 201 answer. */
export type { CheckpointList as CheckpointListResponse, IterationSummary } from '../src/checkpoint/http-store';
export type { PutResult as CheckpointPutResponse } from '../src/checkpoint/store';

export interface CreateRunResponse {
  run: RunSummary;
  joinToken: string;
  /** Contributor URL (relative to the coordinator) that joins this run. */
  joinPath: string;
  warnings: string[];
}
