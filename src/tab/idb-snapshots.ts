// The tab's local snapshots in IndexedDB (through `idb`), so a reloaded tab resumes its rank
// from its own last state instead of a checkpoint: records {key, step, params, m, v}, the
// newest few per key. Works in the rank worker (IndexedDB exists in workers).
import { type DBSchema, type IDBPDatabase, openDB } from 'idb';
import type { RankStateBlob } from '../train/elastic/rank-state';
import type { SnapshotStore } from '../train/elastic/snapshots';

interface SnapshotRecord extends RankStateBlob {
  key: string;
  savedAt: number;
}

interface Schema extends DBSchema {
  snapshots: { key: [string, number]; value: SnapshotRecord; indexes: { byKey: string } };
}

const DB_NAME = 'tabtron';
const DB_VERSION = 1;

export class IdbSnapshotStore implements SnapshotStore {
  private db: Promise<IDBPDatabase<Schema>> | null = null;

  private open(): Promise<IDBPDatabase<Schema>> {
    this.db ??= openDB<Schema>(DB_NAME, DB_VERSION, {
      upgrade(db) {
        const store = db.createObjectStore('snapshots', { keyPath: ['key', 'step'] });
        store.createIndex('byKey', 'key');
      },
    });
    return this.db;
  }

  async put(key: string, state: RankStateBlob, keep: number): Promise<void> {
    const db = await this.open();
    const tx = db.transaction('snapshots', 'readwrite');
    await tx.store.put({ key, savedAt: Date.now(), ...state });
    const steps = (await tx.store.index('byKey').getAllKeys(key)).map((k) => k[1]).sort((a, b) => a - b);
    for (const step of steps.slice(0, Math.max(0, steps.length - keep))) await tx.store.delete([key, step]);
    await tx.done;
  }

  async get(key: string, step: number): Promise<RankStateBlob | null> {
    const rec = await (await this.open()).get('snapshots', [key, step]);
    return rec ? { step: rec.step, params: rec.params, m: rec.m, v: rec.v } : null;
  }

  async steps(key: string): Promise<number[]> {
    const keys = await (await this.open()).getAllKeysFromIndex('snapshots', 'byKey', key);
    return keys.map((k) => k[1]).sort((a, b) => a - b);
  }
}
