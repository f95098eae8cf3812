// Standalone entry: node --import tsx cli/validate-main.ts [--json] config.yml [more.yml ...]

import { validateCommand } from './validate';

const args = process.argv.slice(2);
const json = args.includes('--json');
const paths = args.filter((a) => a !== '--json');
if (paths.length === 0) {
  process.stderr.write('usage: validate-main.ts [--json] config.yml [more.yml ...]\n');
  process.exitCode = 2;
} else {
  validateCommand(paths, { json });
}
