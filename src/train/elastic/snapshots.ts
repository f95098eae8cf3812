// A tab's own snapshots of its rank's state, for coming back after a reload: written every
// `snapshot_interval` steps, the newest few kept per rank place. The browser keeps them in
// IndexedDB (src/tab/idb-snapshots.ts); tests and Node ranks in memory.
import type { RankStateBlob } from './rank-state';

export interface SnapshotStore {
  /** stores `state` under `key` (its step is part of it) and drops all but the newest `keep` */
  put(key: string, state: RankStateBlob, keep: number): Promise<void>;
  get(key: string, step: number): Promise<RankStateBlob | null>;
  /** steps stored under `key`, ascending */
  steps(key: string): Promise<number[]>;
}

/** Where a rank's state fits: the run, the rank's pipeline stage and tensor shard in a
 *  TP × PP layout, and with ZeRO its optimizer shard too. */
export interface SnapshotPlace {
  runId: string;
  tp: number;
  pp: number;
  /** with ZeRO the moments are the shard of this dp index out of `dp` */
  zero: { dp: number; dpRank: number } | null;
  coords: { tp: number; pp: number };
}

export function snapshotKey(p: SnapshotPlace): string {
  const zero = p.zero ? `:zero${p.zero.dpRank}of${p.zero.dp}` : '';
  return `${p.runId}:tp${p.tp}pp${p.pp}:stage${p.coords.pp}.shard${p.coords.tp}${zero}`;
}

export class MemorySnapshotStore implements SnapshotStore {
  private readonly byKey = new Map<string, RankStateBlob[]>();

  async put(key: string, state: RankStateBlob, keep: number): Promise<void> {
    const list = (this.byKey.get(key) ?? []).filter((s) => s.step !== state.step);
    list.push(state);
    list.sort((a, b) => a.step - b.step);
    this.byKey.set(key, list.slice(-keep));
  }

  async get(key: string, step: number): Promise<RankStateBlob | null> {
    return this.byKey.get(key)?.find((s) => s.step === step) ?? null;
  }

  async steps(key: string): Promise<number[]> {
    return (this.byKey.get(key) ?? []).map((s) => s.step);
  }
}
