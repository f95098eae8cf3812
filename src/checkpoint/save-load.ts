// The two calls a rank makes: save its state into a store, and load any layout's checkpoint
// from a store as its own state (the newest complete iteration unless one is named).

import type { ModelSpec } from '../model/spec';
import type { ReadFile } from './assemble';
import { CheckpointError, rankFileName, writesFile, type CheckpointLayout, type RankState } from './layout';
import type { Manifest } from './manifest';
import { encodeRankFile } from './rank-file';
import { loadRankState, type ReshardTarget, type ReshardedState } from './reshard';
import { sha256Hex } from './sha256';
import type { CheckpointStore, PutResult } from './store';

/** Encodes and stores this rank's file; null for a rank that writes none (dp > 0 without ZeRO). */
export async function saveRankState(
  store: CheckpointStore,
  iteration: number,
  spec: ModelSpec,
  layout: CheckpointLayout,
  state: RankState,
): Promise<PutResult | null> {
  if (!writesFile(layout, state.coord)) return null;
  const bytes = encodeRankFile(spec, layout, state);
  return store.put(iteration, rankFileName(state.coord.rank), bytes, { sha256: await sha256Hex(bytes), layout });
}

export interface OpenedCheckpoint {
  manifest: Manifest;
  readFile: ReadFile;
}

export async function openCheckpoint(store: CheckpointStore, iteration?: number): Promise<OpenedCheckpoint> {
  const it = iteration ?? (await store.latest());
  if (it === null) throw new CheckpointError('not_found', 'the store holds no complete checkpoint');
  const manifest = await store.manifest(it);
  if (!manifest) throw new CheckpointError('not_found', `iteration ${it} has no complete checkpoint`);
  return { manifest, readFile: (name) => store.get(it, name) };
}

export async function loadFromStore(
  store: CheckpointStore,
  target: ReshardTarget,
  iteration?: number,
): Promise<ReshardedState & { iteration: number; fetched: string[] }> {
  const { manifest, readFile } = await openCheckpoint(store, iteration);
  return { ...(await loadRankState(manifest, readFile, target)), iteration: manifest.iteration };
}
