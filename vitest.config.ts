import { defineConfig } from 'vitest/config';

// Dawn (npm `webgpu`) finds SwiftShader through Chromium's bundled Vulkan loader on
// machines without a GPU. The forked test workers inherit this environment.
process.env.LD_LIBRARY_PATH = ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
process.env.XDG_RUNTIME_DIR ??= '/tmp';

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'coordinator/**/*.test.ts', 'cli/**/*.test.ts', 'tools/**/*.test.ts'],
          // a hang fails after 2 min; the CLI tests start processes that each open a SwiftShader device,
          // 15 s alone and 60–90 s while the e2e project and other work share the machine's cores
          testTimeout: 120_000,
          // beforeAll hooks start coordinator processes (tsx): up to 30 s on a loaded machine (test-helpers.ts)
          hookTimeout: 60_000,
          // two files at a time even on 2 cores (Vitest's default is cores − 1): most unit files wait
          // on child processes, sockets or the GPU thread more than they compute
          maxWorkers: 2,
          // every file in a process of its own (Vitest's defaults, relied on): the f16 files on Mesa's
          // lavapipe (sharedLavapipeContext) set VK_ICD_FILENAMES, which Dawn reads once per process
          pool: 'forks',
          isolate: true,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['e2e/**/*.spec.ts'],
          // one build of the web app for all of them (TABTRON_WEB_DIST)
          globalSetup: ['e2e/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
