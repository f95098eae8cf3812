#!/usr/bin/env node
// `npm test`'s runner: Vitest's two projects side by side, as processes of their own. In one Vitest
// process the e2e files (one at a time: each opens browsers and a coordinator) start only after the
// last unit file; side by side, the unit files (one at a time here) use the time the browser tests
// spend waiting on sockets, timers and page loads. The e2e files in LATER run in a second e2e
// process that starts when the unit files are done, beside the rest: never more than two processes
// at once (three overloaded a 2-core machine: the churn test timed out). Each line is prefixed with
// its process; the exit status is 0 only when all pass. Extra arguments (e.g. a file filter) go to
// the unit and e2e processes, and then the e2e files are not split.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const extra = process.argv.slice(2);
// single-browser files that do not wait on many tabs: what is left of the e2e files once the
// ~560 s of unit files are done. Chosen so both sides end together (session 11's suite: e2e-1
// ~1,050 s; unit 564 s + these ~530 s)
const LATER = [
  'e2e/kernels.spec.ts',
  'e2e/elastic.spec.ts',
  'e2e/checkpoint-resume.spec.ts',
  'e2e/hf-finetune.spec.ts',
  'e2e/mixed-precision.spec.ts',
];
const split = extra.length === 0;

function run(name, project, args) {
  const argv = [vitest, 'run', '--project', project, '--passWithNoTests', ...args, ...extra];
  const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const tag = `[${name}]`.padEnd(8);
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ])
    createInterface({ input: stream }).on('line', (line) => out.write(`${tag} ${line}\n`));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ name, code: code ?? 1, signal })));
}

const stop = () => process.exit(130);
process.once('SIGINT', stop).once('SIGTERM', stop);
const t0 = Date.now();
const results = await Promise.all([
  run('unit', 'unit', ['--maxWorkers', '1']).then(async (unit) =>
    split ? [unit, await run('e2e-2', 'e2e', LATER)] : [unit],
  ),
  run(split ? 'e2e-1' : 'e2e', 'e2e', split ? LATER.flatMap((f) => ['--exclude', f]) : []),
]).then(([first, e2e]) => [...first, e2e]);
const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
for (const r of results)
  console.log(`${r.name}: ${r.code === 0 ? 'passed' : `failed (${r.signal ?? `exit ${r.code}`})`}`);
console.log(`all in ${minutes} min`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
