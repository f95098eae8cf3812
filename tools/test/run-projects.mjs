#!/usr/bin/env node
// `npm test`'s runner: Vitest's two projects side by side, as two processes. In one Vitest process
// the e2e files (one at a time: each opens browsers and a coordinator) start only after the last
// unit file; side by side, the unit files (one at a time here) use the time the browser tests
// spend waiting on sockets, timers and page loads. Each line is prefixed with its project; the
// exit status is 0 only when both pass. Extra arguments go to both (e.g. a file filter).
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const vitest = join(root, 'node_modules', 'vitest', 'vitest.mjs');
const extra = process.argv.slice(2);
const projects = [
  { name: 'unit', args: ['--maxWorkers', '1'] },
  { name: 'e2e', args: [] },
];

function run({ name, args }) {
  const child = spawn(process.execPath, [vitest, 'run', '--project', name, '--passWithNoTests', ...args, ...extra], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tag = `[${name}]`.padEnd(6);
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
const results = await Promise.all(projects.map(run));
const minutes = ((Date.now() - t0) / 60_000).toFixed(1);
for (const r of results)
  console.log(`${r.name}: ${r.code === 0 ? 'passed' : `failed (${r.signal ?? `exit ${r.code}`})`}`);
console.log(`both projects in ${minutes} min`);
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
