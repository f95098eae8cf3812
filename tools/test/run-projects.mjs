#!/usr/bin/env node
// `npm test`'s runner: Vitest's two projects side by side, as processes of their own. In one Vitest process
// the e2e files (one at a time: each opens browsers and a coordinator) start only after the last
// unit file; side by side, the unit files (one at a time here) use the time the browser tests
// spend waiting on sockets, timers and page loads. Each line is prefixed with its process; the
// exit status is 0 only when all pass. Extra arguments go to each (e.g. a file filter).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const extra = process.argv.slice(2);
// the e2e files in two groups, each one file at a time (tools/test/e2e-shards.mjs): most of a browser
// test's time is waiting, and a full run used 1.15 of the 2 cores with one group
const projects = [
  { name: 'unit', project: 'unit', args: ['--maxWorkers', '1'] },
  { name: 'e2e-1', project: 'e2e', args: [], env: { TABTRON_E2E_GROUP: '1' } },
  { name: 'e2e-2', project: 'e2e', args: [], env: { TABTRON_E2E_GROUP: '2' } },
];

function run({ name, project, args, env = {} }) {
  const argv = [vitest, 'run', '--project', project, '--passWithNoTests', ...args, ...extra];
  const child = spawn(process.execPath, argv, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const tag = `[${name}]`.padEnd(7);
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
// the browser dependencies pre-bundled once, before several Vite servers start at the same moment
await new Promise((resolve) =>
  spawn(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'optimize'], {
    cwd: root,
    stdio: 'ignore',
  }).on('close', resolve),
);
const results = await Promise.all(projects.map(run));
const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
for (const r of results)
  console.log(`${r.name}: ${r.code === 0 ? 'passed' : `failed (${r.signal ?? `exit ${r.code}`})`}`);
console.log(`all in ${minutes} min`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
