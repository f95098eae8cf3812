// Checkpoints in a directory (Node only):
//   <dir>/iter_0000010/rank_00000.safetensors, rank_00001.safetensors, ..., manifest.json
//   <dir>/latest          the newest complete iteration's directory name ("iter_0000010")
// Every file is written to a hidden temp file, flushed, then renamed into place, so a reader
// (or a crash) never sees part of one; manifest.json goes last (CheckpointWriter).

import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CheckpointError, iterationDirName, iterationOfDirName } from './layout';
import { CheckpointWriter, type StoreBackend } from './store';

export class FsBackend implements StoreBackend {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  path(iteration: number | null, name: string): string {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name) || name.includes('..'))
      throw new CheckpointError('not_found', `not a checkpoint file name: ${JSON.stringify(name.slice(0, 80))}`);
    return iteration === null ? join(this.dir, name) : join(this.dir, iterationDirName(iteration), name);
  }

  where = (iteration: number | null, name: string) => this.path(iteration, name);

  async write(iteration: number | null, name: string, bytes: Uint8Array): Promise<void> {
    const target = this.path(iteration, name);
    const folder = iteration === null ? this.dir : join(this.dir, iterationDirName(iteration));
    await mkdir(folder, { recursive: true });
    const temp = join(folder, `.${name}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      const fh = await open(temp, 'w');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(temp, target);
    } catch (e) {
      await rm(temp, { force: true });
      throw e;
    }
  }

  async read(iteration: number | null, name: string): Promise<Uint8Array | null> {
    try {
      const b = await readFile(this.path(iteration, name));
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async remove(iteration: number, name: string): Promise<void> {
    await rm(this.path(iteration, name), { force: true });
  }

  async list(iteration: number): Promise<string[]> {
    return (await entries(join(this.dir, iterationDirName(iteration)))).filter((n) => !n.startsWith('.'));
  }

  async iterations(): Promise<number[]> {
    return (await entries(this.dir))
      .map(iterationOfDirName)
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);
  }
}

async function entries(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export const fsCheckpointStore = (dir: string, opts: { readOnly?: boolean } = {}): CheckpointWriter =>
  new CheckpointWriter(new FsBackend(dir), opts);
