import { defineConfig } from 'vite';
import { resolve } from 'node:path';

const root = new URL('.', import.meta.url).pathname;

export default defineConfig({
  root,
  server: {
    headers: {
      // cross-origin isolation: SharedArrayBuffer between page and worker
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    },
  },
  worker: { format: 'es' },
  // Pre-bundle every browser dependency up front: otherwise Vite discovers some on first load
  // (workers especially) and reloads the page, which breaks headless runs mid-start.
  optimizeDeps: {
    include: [
      'comlink',
      'zod',
      'yaml',
      'uplot',
      'peerjs',
      'gpt-tokenizer/encoding/r50k_base',
      'fastest-levenshtein',
      'idb',
    ],
  },
  build: {
    target: 'es2022',
    rollupOptions: {
      input: {
        main: resolve(root, 'index.html'),
        admin: resolve(root, 'admin.html'),
      },
    },
  },
});
