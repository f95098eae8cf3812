// The web app as `npm run build` makes it, plus the GPU test pages (every kernel check in a Worker,
// the benchmark smoke page), for a machine that gets the built app and no Vite:
//   npx vite build --config tools/gpu/vite.pages.config.ts --outDir DIR
import { resolve } from 'node:path';
import { defineConfig, mergeConfig } from 'vite';
import base from '../../vite.config';

const root = resolve(new URL('../..', import.meta.url).pathname);

export default mergeConfig(
  base,
  defineConfig({
    build: {
      rollupOptions: {
        input: {
          kernels: resolve(root, 'e2e/pages/kernels.html'),
          bench: resolve(root, 'tools/gpu/bench-page.html'),
        },
      },
    },
  }),
);
