// esbuild plugin: `import src from './x.wgsl?raw'` yields the file's text, as Vite does.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

// './x.wgsl' from the importing file's folder; a bare 'pkg/file.txt' from node_modules
const resolveRaw = (spec, dir) =>
  spec.startsWith('.') || path.isAbsolute(spec)
    ? path.resolve(dir, spec)
    : createRequire(path.join(dir, 'x.js')).resolve(spec);

export const rawPlugin = {
  name: 'raw',
  setup(build) {
    build.onResolve({ filter: /\?raw$/ }, (args) => ({
      path: resolveRaw(args.path.slice(0, -4), args.resolveDir),
      namespace: 'raw-text',
    }));
    build.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (args) => ({
      contents: await readFile(args.path, 'utf8'),
      loader: 'text',
    }));
  },
};
