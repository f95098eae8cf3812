// The mmap index format against files tools/data/write_fixtures.py wrote with numpy in NeoX's
// byte layout: reading them, writing the same bytes back, and naming what is wrong in broken ones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { IndexedDatasetWriter } from '../node/indexed-writer';
import { removeTempDirs, tempDir } from '../node/temp-dirs';
import { decodeTokens, encodeIndex, parseIndex, parseIndexHeader } from './mmap-format';

const FIXTURES = new URL('../../tools/data/fixtures/', import.meta.url).pathname;
const idxOf = (name: string) => new Uint8Array(readFileSync(`${FIXTURES}${name}.idx`));
const binOf = (name: string) => new Uint8Array(readFileSync(`${FIXTURES}${name}.bin`));

function withByte(bytes: Uint8Array, at: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[at] = value;
  return copy;
}

afterAll(removeTempDirs);

describe('mmap index', () => {
  it('reads NeoX-layout files (uint16, int32, Megatron-LM sequence modes) and writes the same bytes back', async () => {
    const dir = tempDir('tabtron-mmap-');
    for (const name of ['alpha_text_document', 'wide_text_document', 'beta_text_document']) {
      const idx = idxOf(name),
        bin = binOf(name);
      const t = parseIndex(idx, name, bin.length);
      const tokens = decodeTokens(bin, t.dtype);
      expect(tokens.length).toBe(t.tokens);
      expect(encodeIndex(t.dtype, t.sizes, t.docIdx)).toEqual(idx);
      // the streaming writer: same sequences and document ends → byte-identical .bin and .idx
      const w = new IndexedDatasetWriter(join(dir, name), t.dtype);
      let at = 0,
        seq = 0;
      for (let d = 1; d < t.docIdx.length; d++) {
        for (; seq < t.docIdx[d]; seq++) {
          await w.add(tokens.subarray(at, at + t.sizes[seq]));
          at += t.sizes[seq];
        }
        w.endDocument();
      }
      await w.finalize();
      expect(new Uint8Array(readFileSync(join(dir, `${name}.bin`)))).toEqual(bin);
      expect(new Uint8Array(readFileSync(join(dir, `${name}.idx`)))).toEqual(idx);
    }
    const alpha = parseIndex(idxOf('alpha_text_document'), 'a.idx');
    expect([alpha.dtype, alpha.sequences, alpha.docIdxEntries - 1, alpha.tokens]).toEqual(['uint16', 49, 48, 2249]);
    const modes = parseIndex(idxOf('modes_text_document'), 'm.idx', binOf('modes_text_document').length);
    expect(modes.sequences).toBe(6);
  });

  it('names the file and the fault: bad magic, unknown dtype, NeoX/Megatron float codes, truncation', () => {
    const idx = idxOf('beta_text_document');
    expect(() => parseIndex(withByte(idx, 0, 0x54), 'x.idx')).toThrow(
      'x.idx is not a Megatron/NeoX mmap index: it starts with "TMIDIDX..", not "MMIDIDX"',
    );
    expect(() => parseIndex(withByte(idx, 17, 9), 'x.idx')).toThrow(
      'x.idx: dtype code 9 is unknown (GPT-NeoX and Megatron-LM use 1–8; token files are uint16 (8) or int32 (4))',
    );
    expect(() => parseIndexHeader(withByte(idx, 17, 6), 'x.idx', 1556)).toThrow(
      "x.idx: dtype code 6 means float32 in GPT-NeoX's writer but float64 in Megatron-LM's (the .bin holds 1556 bytes for 20 sequences); token datasets must hold integer token ids",
    );
    expect(() => parseIndexHeader(withByte(idx, 17, 7), 'x.idx')).toThrow(
      "x.idx: dtype code 7 means float64 in GPT-NeoX's writer but float32 in Megatron-LM's;",
    );
    expect(() => parseIndex(idx.subarray(0, 20), 'x.idx')).toThrow(
      'x.idx is truncated: an index header takes 34 bytes, the file has 20',
    );
    expect(() => parseIndex(idx.subarray(0, idx.length - 8), 'x.idx')).toThrow(
      'x.idx is truncated: its header says 20 sequences and 21 document-index entries, which take 442 bytes, but the file has 434',
    );
    expect(() => parseIndex(idx, 'x.idx', 1000, 'x.bin')).toThrow(
      'x.bin is inconsistent: x.idx describes 389 uint16 tokens (778 bytes), the file has 1000',
    );
  });

  it('names inconsistent tables: a pointer off the running sum, a decreasing doc_idx', () => {
    const idx = idxOf('beta_text_document');
    const pointers = idx.slice();
    new DataView(pointers.buffer).setBigInt64(34 + 20 * 4 + 8 * 3, 2n, true);
    expect(() => parseIndex(pointers, 'x.idx')).toThrow(/x\.idx is inconsistent: the pointer of sequence 3 is 2, but/);
    const docs = idx.slice();
    new DataView(docs.buffer).setBigInt64(34 + 20 * 12 + 8 * 5, 1n, true);
    expect(() => parseIndex(docs, 'x.idx')).toThrow('x.idx is inconsistent: doc_idx decreases at entry 5 (4 then 1)');
  });
});
