// The e2e files in two groups that `npm test` runs side by side (each group one file at a time): the
// files train in one browser's worker (GPU-bound on SwiftShader) in the first, the multi-tab, CLI and
// coordinator files (mostly waiting on sockets, timers and page loads) in the second. Sized from a
// full run's file times (first ~12 min, second ~11 min alone). A file not listed goes to the second.
export const FIRST = [
  'e2e/layouts.spec.ts',
  'e2e/kernels.spec.ts',
  'e2e/elastic.spec.ts',
  'e2e/checkpoint-resume.spec.ts',
  'e2e/comm.spec.ts',
  'e2e/hf-finetune.spec.ts',
  'e2e/mixed-precision.spec.ts',
  'e2e/parity.spec.ts',
];

/** the include globs / excludes of the e2e project for TABTRON_E2E_GROUP ('1', '2' or unset: all) */
export function e2eFiles(group = process.env.TABTRON_E2E_GROUP) {
  if (group === '1') return { include: FIRST, exclude: [] };
  if (group === '2') return { include: ['e2e/**/*.spec.ts'], exclude: FIRST };
  return { include: ['e2e/**/*.spec.ts'], exclude: [] };
}
