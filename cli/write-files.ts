// Writes a set of files into a folder, each through a temporary name and a rename (a reader
// never sees half a file), after checking that none would replace an existing file.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './errors';

export function writeFolder(dir: string, files: Record<string, Uint8Array | string>, overwrite = false): void {
  const clash = Object.keys(files).filter((f) => existsSync(join(dir, f)));
  if (clash.length && !overwrite)
    throw new CliError(`${dir} already has ${clash.join(', ')}; nothing was written (use --force to replace them)`);
  mkdirSync(dir, { recursive: true });
  for (const [name, body] of Object.entries(files)) {
    const tmp = join(dir, `.${name}.tmp-${process.pid}`);
    writeFileSync(tmp, body);
    renameSync(tmp, join(dir, name));
  }
}
