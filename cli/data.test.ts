// `tabtron data inspect` in a child process: the summary of datasets written by
// tools/data/write_fixtures.py (numpy, NeoX's byte layout) equals what that script computed,
// and broken files fail naming the file and the fault.

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir } from '../src/node/temp-dirs';

const root = join(import.meta.dirname, '..');
const FIXTURES = join(root, 'tools/data/fixtures');
const tabtron = (...args: string[]) =>
  spawnSync(process.execPath, ['bin/tabtron.mjs', 'data', ...args], { cwd: root, encoding: 'utf8' });
const expected = JSON.parse(readFileSync(join(FIXTURES, 'inspect.json'), 'utf8'));

function brokenCopy(name: string, edit: (idx: Uint8Array, bin: Uint8Array) => [Uint8Array, Uint8Array]): string {
  const dir = tempDir('tabtron-data-cli-');
  const idx = new Uint8Array(readFileSync(join(FIXTURES, `${name}.idx`)));
  const bin = new Uint8Array(readFileSync(join(FIXTURES, `${name}.bin`)));
  const [i, b] = edit(idx, bin);
  writeFileSync(join(dir, `${name}.idx`), i);
  writeFileSync(join(dir, `${name}.bin`), b);
  return join(dir, name);
}

afterAll(removeTempDirs);

describe('tabtron data inspect', () => {
  it('--json prints format, dtype, sequences, documents, tokens and the token hash numpy computed', () => {
    for (const name of ['alpha_text_document', 'wide_text_document']) {
      const r = tabtron('inspect', join(FIXTURES, name), '--json');
      expect(r.status, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(expected[name]);
      expect(Object.keys(JSON.parse(r.stdout))).toEqual([
        'format',
        'dtype',
        'sequences',
        'documents',
        'tokens',
        'sha256_tokens_u32le',
      ]);
    }
    const plain = tabtron('inspect', join(FIXTURES, 'alpha_text_document.bin'));
    expect(plain.status, plain.stderr).toBe(0);
    expect(plain.stdout).toContain('48 documents, 49 sequences, 2249 tokens');
  });

  it('a truncated .bin and a doc_idx that does not end at the sequence count fail naming the file', () => {
    const truncated = brokenCopy('alpha_text_document', (idx, bin) => [idx, bin.subarray(0, bin.length - 10)]);
    const r = tabtron('inspect', truncated, '--json');
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `tabtron: ${truncated}.bin is truncated: ${truncated}.idx describes 2249 uint16 tokens (4498 bytes), the file has 4488\n`,
    );
    const badDocIdx = brokenCopy('beta_text_document', (idx, bin) => {
      const copy = idx.slice();
      new DataView(copy.buffer).setBigInt64(copy.length - 8, 19n, true); // last doc_idx entry: 19, not 20
      return [copy, bin];
    });
    const d = tabtron('inspect', badDocIdx);
    expect(d.status).toBe(1);
    expect(d.stderr).toBe(
      `tabtron: ${badDocIdx}.idx is inconsistent: doc_idx ends at 19, not at the sequence count 20\n`,
    );
  });
});
