// Bundles TypeScript entry points into self-contained ESM files for Node (GPU servers,
// the CLI's fast path): node tools/bundle-node.mjs OUTDIR entry.ts [...]
import { build } from 'esbuild';
import path from 'node:path';
import { rawPlugin } from './esbuild-raw-plugin.mjs';

const [outdir, ...entries] = process.argv.slice(2);
if (!outdir || entries.length === 0) {
  console.error('usage: node tools/bundle-node.mjs OUTDIR entry.ts [...]');
  process.exit(2);
}
await build({
  entryPoints: entries,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: path.resolve(outdir),
  outExtension: { '.js': '.mjs' },
  // TABTRON_BUNDLE_EXTERNAL=a,b: more packages left to node_modules (native ones such as better-sqlite3)
  external: ['webgpu', 'playwright-core', ...(process.env.TABTRON_BUNDLE_EXTERNAL ?? '').split(',').filter(Boolean)],
  plugins: [rawPlugin],
  logLevel: 'warning',
  // pack.sh adds this banner itself when it re-bundles for a GPU machine (TABTRON_NO_BANNER=1)
  ...(process.env.TABTRON_NO_BANNER
    ? {}
    : { banner: { js: "import{createRequire as __cr}from'module';const require=__cr(import.meta.url);" } }),
});
