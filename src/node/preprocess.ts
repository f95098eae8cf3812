// `tabtron preprocess`: JSON-lines documents → Megatron/NeoX mmap datasets, as GPT-NeoX's
// tools/datasets/preprocess_data.py writes them: one output per --jsonl-keys key,
// `<output-prefix>_<key>_document.bin/.idx`, one sequence per document (its tokens, plus the
// end-of-document id with --append-eod), uint16 tokens below 65500 ids else int32. Inputs are
// streamed line by line (.jsonl, or gzip-compressed .jsonl.gz), never loaded whole; documents
// whose text is empty are skipped, as NeoX's reader (lm_dataformat) skips them. A line may be an
// object (the key's value: a string, or a list of paragraphs joined by blank lines) or a bare
// JSON string (lm_dataformat's legacy form). NeoX's script tokenizes the "text" field for every
// key; tabtron tokenizes each key's own field (the same thing for the default, "text").

import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { bestDtype, type TokenDtype } from '../data/mmap-format';
import { getTokenizer } from '../data/tokenizer';
import { IndexedDatasetWriter } from './indexed-writer';
import { tokenizePool, type TokenizedBatch } from './tokenize-pool';

export interface PreprocessOptions {
  inputs: string[];
  outputPrefix: string;
  tokenizerType: string;
  jsonlKeys: string[];
  appendEod: boolean;
  workers: number;
  onProgress?: (p: PreprocessProgress) => void;
}

export interface PreprocessProgress {
  /** input bytes read so far (compressed bytes for .gz) */
  bytes: number;
  totalBytes: number;
  documents: number;
}

export interface PreprocessOutput {
  key: string;
  prefix: string;
  dtype: TokenDtype;
  documents: number;
  tokens: number;
}

export class PreprocessError extends Error {
  override name = 'PreprocessError';
}

const BATCH_DOCS = 256;
const BATCH_CHARS = 1 << 20;

function openLines(file: string, onBytes: (n: number) => void) {
  if (!/\.jsonl(\.gz)?$/.test(file))
    throw new PreprocessError(`${file}: tabtron preprocess reads JSON lines (.jsonl, or gzip-compressed .jsonl.gz)`);
  const raw = createReadStream(file);
  raw.on('data', (chunk) => onBytes(chunk.length));
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  raw.on('error', (e) => input.destroy(e));
  return createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
}

/** The text of `key` in one JSON line, or an error naming the line. */
function textOf(doc: unknown, key: string, where: string): string {
  if (typeof doc === 'string') return doc;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new PreprocessError(`${where}: expected a JSON object (or a JSON string), got ${JSON.stringify(doc)}`);
  const v = (doc as Record<string, unknown>)[key];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.every((p) => typeof p === 'string')) return v.join('\n\n');
  throw new PreprocessError(
    v === undefined
      ? `${where}: no "${key}" field (keys: ${Object.keys(doc).slice(0, 10).join(', ')}); choose fields with --jsonl-keys`
      : `${where}: "${key}" must be a string or a list of strings, got ${JSON.stringify(v).slice(0, 80)}`,
  );
}

export async function preprocess(o: PreprocessOptions): Promise<PreprocessOutput[]> {
  const tokenizer = getTokenizer(o.tokenizerType);
  if (o.jsonlKeys.length === 0) throw new PreprocessError('--jsonl-keys needs at least one key');
  if (!Number.isInteger(o.workers) || o.workers < 1)
    throw new PreprocessError(`--workers must be a positive integer, got ${o.workers}`);
  for (const f of o.inputs) {
    try {
      if (!statSync(f).isFile()) throw new Error('not a file');
    } catch {
      throw new PreprocessError(`--input ${f}: no such file`);
    }
  }
  const dtype = bestDtype(tokenizer.vocabSize);
  const writers = o.jsonlKeys.map((key) => new IndexedDatasetWriter(`${o.outputPrefix}_${key}_document`, dtype));
  const pool = tokenizePool(tokenizer, o.workers);
  const progress = { bytes: 0, totalBytes: o.inputs.reduce((a, f) => a + statSync(f).size, 0), documents: 0 };

  // batches are tokenized concurrently and written in order
  const pending: { docs: number; results: Promise<TokenizedBatch[]> }[] = [];
  const writeOldest = async () => {
    const { docs, results } = pending.shift()!;
    const perKey = await results;
    const offsets = perKey.map(() => ({ ids: 0 }));
    for (let d = 0; d < docs; d++)
      for (let k = 0; k < writers.length; k++) {
        const { ids, lengths } = perKey[k];
        const n = lengths[d];
        const seq = ids.subarray(offsets[k].ids, offsets[k].ids + n);
        offsets[k].ids += n;
        if (o.appendEod) {
          const withEod = new Int32Array(n + 1);
          withEod.set(seq);
          withEod[n] = tokenizer.eod;
          await writers[k].add(withEod);
        } else if (n > 0) await writers[k].add(seq);
        writers[k].endDocument();
      }
    progress.documents += docs;
    o.onProgress?.({ ...progress });
  };
  let batch: string[][] = o.jsonlKeys.map(() => []);
  let chars = 0;
  const flush = async () => {
    if (batch[0].length === 0) return;
    const texts = batch;
    pending.push({ docs: texts[0].length, results: Promise.all(texts.map((t) => pool.tokenize(t))) });
    batch = o.jsonlKeys.map(() => []);
    chars = 0;
    while (pending.length > 2 * o.workers) await writeOldest();
  };
  try {
    for (const file of o.inputs) {
      let lineNo = 0;
      for await (const line of openLines(file, (n) => (progress.bytes += n))) {
        lineNo++;
        if (line.trim() === '') continue;
        let doc: unknown;
        try {
          doc = JSON.parse(line);
        } catch (e) {
          throw new PreprocessError(`${file}:${lineNo}: not a JSON line (${(e as Error).message})`);
        }
        const texts = o.jsonlKeys.map((k) => textOf(doc, k, `${file}:${lineNo}`));
        if (texts[0] === '') continue; // lm_dataformat drops empty documents
        texts.forEach((t, k) => batch[k].push(t));
        chars += texts.reduce((a, t) => a + t.length, 0);
        if (batch[0].length >= BATCH_DOCS || chars >= BATCH_CHARS) await flush();
      }
    }
    await flush();
    while (pending.length) await writeOldest();
    await Promise.all(writers.map((w) => w.finalize()));
  } finally {
    await pool.close();
  }
  return writers.map((w, k) => ({
    key: o.jsonlKeys[k],
    prefix: w.prefix,
    dtype,
    documents: w.documents,
    tokens: w.tokens,
  }));
}
