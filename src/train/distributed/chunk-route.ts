// Where a model chunk's tensors come from and go to. Under interleaved 1F1B, local chunk k of
// stage s is global chunk g = k·P + s (src/parallel/ops.ts): a microbatch's forward runs
// g = 0, 1, …, P·v − 1, so the pipeline is a ring, the last stage's chunk k feeding stage 0's
// chunk k + 1. Without interleaving (v = 1) it is the plain line of stages.
import type { GroupSpec } from '../../comm/worker-bridge';

export interface ChunkPlace {
  stage: number;
  stages: number;
  /** the pipeline's ranks in stage order */
  ppGroup: GroupSpec;
}

export interface ChunkRoute {
  global: number;
  /** the rank whose chunk feeds this one (null: it starts the model) */
  prevRank: number | null;
  /** the rank whose chunk this one feeds (null: it ends the model) */
  nextRank: number | null;
}

export function chunkRoute(p: ChunkPlace, chunk: number, chunks: number): ChunkRoute {
  const P = p.stages;
  const global = chunk * P + p.stage;
  return {
    global,
    prevRank: global > 0 ? p.ppGroup.ranks[(p.stage - 1 + P) % P] : null,
    nextRank: global < P * chunks - 1 ? p.ppGroup.ranks[(p.stage + 1) % P] : null,
  };
}

/** A pipeline message's tag: `base` plus, when interleaved, the global chunk that consumes it. */
export function chunkTag(base: string, consumer: number, chunks: number): string {
  return chunks > 1 ? `${base}.${consumer}` : base;
}
