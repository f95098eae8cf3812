// src/config is imported by the browser tab and the coordinator: bundling it for the
// browser must not pull in node:fs (or any Node builtin).

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('src/config in a browser bundle', () => {
  it('bundles for the browser with no Node builtins', async () => {
    const result = await build({
      entryPoints: [fileURLToPath(new URL('./index.ts', import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((p) => p.includes('src/config/resolve.ts'))).toBe(true);
    expect(inputs.filter((p) => p.startsWith('node:') || /^(fs|path|os)$/.test(p))).toEqual([]);
    expect(result.outputFiles[0].text).not.toMatch(/from\s*["']node:/);
  });
});
