// `tabtron preprocess`: NeoX's flags and output naming, documents as NeoX's preprocess_data.py
// writes them (tokens + end-of-document, empty documents skipped), the same bytes on several
// tokenizer threads, errors naming the file and line, and a large input streamed, not loaded.

import { spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeTokens, parseIndex } from '../src/data/mmap-format';
import { gpt2BpeTokenizer } from '../src/data/tokenizer';
import { preprocess, type PreprocessProgress } from '../src/node/preprocess';
import { removeTempDirs, tempDir } from '../src/node/temp-dirs';

const root = join(import.meta.dirname, '..');
const tabtron = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/tabtron.mjs', 'preprocess', ...args], { cwd: root, encoding: 'utf8' });
const tmp = () => tempDir('tabtron-preprocess-');
afterAll(removeTempDirs);

/** Every document of a written dataset, as token arrays. */
function documentsOf(prefix: string): number[][] {
  const idx = parseIndex(new Uint8Array(readFileSync(`${prefix}.idx`)), `${prefix}.idx`);
  const tokens = decodeTokens(new Uint8Array(readFileSync(`${prefix}.bin`)), idx.dtype);
  expect(idx.docIdx.length - 1).toBe(idx.sequences); // one sequence per document
  const docs: number[][] = [];
  let at = 0;
  for (const n of idx.sizes) {
    docs.push([...tokens.subarray(at, at + n)]);
    at += n;
  }
  return docs;
}

const LINES = [
  { text: 'Call me Ishmael.', title: 'Loomings' },
  { text: '', title: 'empty: skipped' },
  { text: ['Some years ago', 'never mind how long'], title: 'paragraphs' },
  'a bare JSON string',
  { text: 'The end<|endoftext|>', title: 'x' },
];

describe('tabtron preprocess', () => {
  it('writes <prefix>_<key>_document.bin/.idx per key, NeoX documents, the same bytes on 2 threads', () => {
    const dir = tmp();
    const input = join(dir, 'docs.jsonl');
    writeFileSync(
      input,
      `${LINES.slice(0, 3)
        .map((l) => JSON.stringify(l))
        .join('\n')}\n`,
    );
    writeFileSync(
      join(dir, 'more.jsonl.gz'),
      gzipSync(
        `${LINES.slice(3)
          .map((l) => JSON.stringify(l))
          .join('\n')}\n`,
      ),
    );
    const args = ['--input', `${input},${join(dir, 'more.jsonl.gz')}`, '--tokenizer-type', 'GPT2BPETokenizer'];
    const one = tabtron(...args, '--output-prefix', join(dir, 'one'), '--append-eod', '--quiet');
    expect(one.status, one.stderr).toBe(0);
    const eod = gpt2BpeTokenizer.eod;
    const want = [
      'Call me Ishmael.',
      'Some years ago\n\nnever mind how long',
      'a bare JSON string',
      'The end<|endoftext|>',
    ];
    const docs = want.map((t) => [...gpt2BpeTokenizer.encode(t), eod]);
    expect(documentsOf(join(dir, 'one_text_document'))).toEqual(docs);
    const tokens = docs.reduce((a, d) => a + d.length, 0);
    expect(one.stdout).toBe(
      `${join(dir, 'one')}_text_document.bin/.idx: 4 documents, ${tokens} uint16 tokens (key "text")\n`,
    );

    const two = tabtron(...args, '--output-prefix', join(dir, 'two'), '--append-eod', '--workers', '2', '--quiet');
    expect(two.status, two.stderr).toBe(0);
    for (const ext of ['bin', 'idx'])
      expect(readFileSync(join(dir, `two_text_document.${ext}`))).toEqual(
        readFileSync(join(dir, `one_text_document.${ext}`)),
      );
  });

  it('--jsonl-keys writes one dataset per key; without --append-eod no end-of-document id', async () => {
    const dir = tmp();
    const input = join(dir, 'docs.jsonl');
    writeFileSync(input, `${[LINES[0], LINES[2]].map((l) => JSON.stringify(l)).join('\n')}\n`);
    const outputs = await preprocess({
      inputs: [input],
      outputPrefix: join(dir, 'p'),
      tokenizerType: 'GPT2BPETokenizer',
      jsonlKeys: ['text', 'title'],
      appendEod: false,
      workers: 1,
    });
    expect(outputs.map((o) => [o.prefix, o.documents])).toEqual([
      [join(dir, 'p_text_document'), 2],
      [join(dir, 'p_title_document'), 2],
    ]);
    expect(documentsOf(join(dir, 'p_title_document'))).toEqual(
      ['Loomings', 'paragraphs'].map((t) => gpt2BpeTokenizer.encode(t)),
    );
  });

  it('names the file and line of a bad document, and refuses inputs it cannot read', async () => {
    const dir = tmp();
    const input = join(dir, 'docs.jsonl');
    writeFileSync(input, '{"text": "fine"}\n{"body": "no text field"}\n');
    const run = (inputs: string[], jsonlKeys = ['text']) =>
      preprocess({
        inputs,
        outputPrefix: join(dir, 'p'),
        tokenizerType: 'GPT2BPETokenizer',
        jsonlKeys,
        appendEod: true,
        workers: 1,
      });
    await expect(run([input])).rejects.toThrow(
      `${input}:2: no "text" field (keys: body); choose fields with --jsonl-keys`,
    );
    writeFileSync(input, '{"text": "fine"}\n{"text": \n');
    await expect(run([input])).rejects.toThrow(`${input}:2: not a JSON line`);
    writeFileSync(join(dir, 'a.txt'), 'plain text');
    await expect(run([join(dir, 'a.txt')])).rejects.toThrow('tabtron preprocess reads JSON lines (.jsonl');
    await expect(run([join(dir, 'missing.jsonl')])).rejects.toThrow(
      `--input ${join(dir, 'missing.jsonl')}: no such file`,
    );
    const cli = tabtron('--input', input, '--output-prefix', join(dir, 'q'), '--tokenizer-type', 'HFTokenizer');
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('--tokenizer-type HFTokenizer is not available in tabtron');
  });

  it('streams a large input: documents are written while most of the file is still unread', async () => {
    const dir = tmp();
    const input = join(dir, 'large.jsonl');
    const out = createWriteStream(input);
    const body = 'It is a way I have of driving off the spleen. '.repeat(40);
    for (let i = 0; i < 12_000; i++) out.write(`${JSON.stringify({ text: `${i}: ${body}` })}\n`);
    await new Promise<void>((r) => out.end(r));
    const total = statSync(input).size;
    expect(total).toBeGreaterThan(20e6);
    const seen: PreprocessProgress[] = [];
    const [result] = await preprocess({
      inputs: [input],
      outputPrefix: join(dir, 'large'),
      tokenizerType: 'CharLevelTokenizer',
      jsonlKeys: ['text'],
      appendEod: true,
      workers: 1,
      onProgress: (p) => seen.push(p),
    });
    expect(result.documents).toBe(12_000);
    expect(seen[0].totalBytes).toBe(total);
    // the first batch of documents was tokenized and written after reading a small part of the input
    expect(seen[0].bytes).toBeLessThan(total / 4);
    expect(seen.at(-1)!.bytes).toBe(total);
    expect(statSync(join(dir, 'large_text_document.bin')).size).toBe(result.tokens * 2);
  });
});
