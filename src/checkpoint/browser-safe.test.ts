// Ranks save and load from a browser Worker: everything but fs-store.ts must bundle for the
// browser without a Node builtin (hashing is WebCrypto, the HTTP store is fetch).

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('src/checkpoint in a browser bundle', () => {
  it.each(['index.ts', 'http-store.ts'])('%s bundles for the browser with no Node builtins', async (entry) => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL(`./${entry}`, import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.includes(`src/checkpoint/${entry}`))).toBe(true);
    expect(
      inputs.filter((p) => p.startsWith('node:') || /^(fs|path|os|crypto)$/.test(p) || p.includes('fs-store')),
    ).toEqual([]);
    expect(result.outputFiles[0].text).not.toMatch(/from\s*["']node:/);
  });
});
