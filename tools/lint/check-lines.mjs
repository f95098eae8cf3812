#!/usr/bin/env node
// The house rules Biome does not check, over every tracked .ts/.mjs file:
//   - at most 1% of lines longer than 120 characters (long strings and URLs Biome cannot break);
//   - relative imports in one style: without a file extension for TypeScript modules.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const MAX_WIDTH = 120;
const MAX_LONG_SHARE = 0.01;
const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts', '*.mjs'], { encoding: 'utf8' })
  .split('\n')
  .filter(Boolean);

let lines = 0;
const long = [];
const badImports = [];
const tsExtension = /(?:from\s+|import\s*\()'(\.{1,2}\/[^']*)\.ts'/;
for (const file of files) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    continue; // deleted in the working tree
  }
  text.split('\n').forEach((line, i) => {
    lines++;
    if (line.length > MAX_WIDTH) long.push(`${file}:${i + 1} (${line.length})`);
    // bin/*.mjs loads TypeScript through tsx at run time and must name the file it loads
    if (file.endsWith('.ts') && tsExtension.test(line)) badImports.push(`${file}:${i + 1}`);
  });
}

const share = long.length / lines;
let failed = false;
if (share > MAX_LONG_SHARE) {
  failed = true;
  console.error(`${long.length} of ${lines} lines (${(share * 100).toFixed(2)}%) are longer than ${MAX_WIDTH}:`);
  for (const l of long.slice(0, 40)) console.error(`  ${l}`);
}
if (badImports.length > 0) {
  failed = true;
  console.error('relative imports name a .ts extension (write them without it):');
  for (const l of badImports) console.error(`  ${l}`);
}
if (failed) process.exit(1);
console.log(`lines: ${long.length} of ${lines} longer than ${MAX_WIDTH} (${(share * 100).toFixed(2)}%, at most 1%)`);
