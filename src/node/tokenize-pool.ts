// Tokenizes batches of texts on N threads (N = 1: in this thread), results in submission order.
import { Worker } from 'node:worker_threads';
import type { Tokenizer } from '../data/tokenizer';

export interface TokenizedBatch {
  ids: Int32Array;
  lengths: Int32Array;
}

export interface TokenizePool {
  tokenize(texts: string[]): Promise<TokenizedBatch>;
  close(): Promise<void>;
}

export function encodeTexts(tokenizer: Tokenizer, texts: readonly string[]): TokenizedBatch {
  const all = texts.map((t) => tokenizer.encode(t));
  const lengths = Int32Array.from(all, (a) => a.length);
  const ids = new Int32Array(lengths.reduce((a, b) => a + b, 0));
  let at = 0;
  for (const a of all) {
    ids.set(a, at);
    at += a.length;
  }
  return { ids, lengths };
}

/** A worker thread that runs src/node/tokenize-worker.ts through tsx (the CLI runs TypeScript). */
function startWorker(tokenizerName: string): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const script = new URL('./tokenize-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(script)}); })`;
  return new Worker(boot, { eval: true, workerData: { tokenizer: tokenizerName } });
}

export function tokenizePool(tokenizer: Tokenizer, threads: number): TokenizePool {
  if (threads <= 1)
    return {
      tokenize: async (texts) => encodeTexts(tokenizer, texts),
      close: async () => {},
    };
  const workers = Array.from({ length: threads }, () => startWorker(tokenizer.name));
  const waiting = new Map<number, { resolve: (b: TokenizedBatch) => void; reject: (e: Error) => void }>();
  let failed: Error | null = null;
  for (const w of workers) {
    w.on('message', (m: TokenizedBatch & { id: number }) => {
      waiting.get(m.id)?.resolve(m);
      waiting.delete(m.id);
    });
    w.on('error', (err) => {
      const e = err instanceof Error ? err : new Error(String(err));
      failed = e;
      for (const p of waiting.values()) p.reject(e);
      waiting.clear();
    });
  }
  let next = 0;
  return {
    tokenize(texts) {
      if (failed) return Promise.reject(failed);
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        workers[id % threads].postMessage({ id, texts });
      });
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
