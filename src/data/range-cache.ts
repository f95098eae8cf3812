// Byte ranges of data files kept in IndexedDB (npm idb) across reloads, keyed by the file's
// version and the range. Bounded: past MAX_CACHED_BYTES the store is emptied and refilled.
// Where IndexedDB does not exist (Node) there is no cache.

import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export const MAX_CACHED_BYTES = 512 * 2 ** 20;

interface RangeDb extends DBSchema {
  ranges: { key: string; value: Uint8Array };
  meta: { key: string; value: number };
}

export interface RangeCache {
  get(keys: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  put(entries: readonly [string, Uint8Array][]): Promise<void>;
}

export async function openRangeCache(name = 'tabtron-data'): Promise<RangeCache | null> {
  if (typeof indexedDB === 'undefined') return null;
  let db: IDBPDatabase<RangeDb>;
  try {
    db = await openDB<RangeDb>(name, 1, {
      upgrade(d) {
        d.createObjectStore('ranges');
        d.createObjectStore('meta');
      },
    });
  } catch {
    return null; // private browsing and the like: read from the coordinator every time
  }
  return {
    async get(keys) {
      const tx = db.transaction('ranges');
      const out = await Promise.all(keys.map((k) => tx.store.get(k)));
      await tx.done;
      return out;
    },
    async put(entries) {
      const tx = db.transaction(['ranges', 'meta'], 'readwrite');
      const meta = tx.objectStore('meta');
      let bytes = (await meta.get('bytes')) ?? 0;
      const added = entries.reduce((a, [, v]) => a + v.byteLength, 0);
      if (bytes + added > MAX_CACHED_BYTES) {
        await tx.objectStore('ranges').clear();
        bytes = 0;
      }
      // a view into a larger response is stored as its own bytes
      await Promise.all(entries.map(([k, v]) => tx.objectStore('ranges').put(v.slice(), k)));
      await meta.put(bytes + added, 'bytes');
      await tx.done;
    },
  };
}
