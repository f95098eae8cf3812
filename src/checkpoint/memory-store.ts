// Checkpoints in memory: for tests and for loopback runs of several ranks in one process.

import { CheckpointWriter, type StoreBackend } from './store';

export class MemoryBackend implements StoreBackend {
  /** `iteration/name` (or `name` at the root) → bytes */
  readonly files = new Map<string, Uint8Array>();

  private key = (iteration: number | null, name: string) => (iteration === null ? name : `${iteration}/${name}`);
  where = (iteration: number | null, name: string) => `memory:${this.key(iteration, name)}`;

  async write(iteration: number | null, name: string, bytes: Uint8Array): Promise<void> {
    this.files.set(this.key(iteration, name), bytes.slice());
  }

  async read(iteration: number | null, name: string): Promise<Uint8Array | null> {
    return this.files.get(this.key(iteration, name))?.slice() ?? null;
  }

  async remove(iteration: number, name: string): Promise<void> {
    this.files.delete(this.key(iteration, name));
  }

  async list(iteration: number): Promise<string[]> {
    const prefix = `${iteration}/`;
    return [...this.files.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  async iterations(): Promise<number[]> {
    const its = new Set<number>();
    for (const k of this.files.keys()) if (k.includes('/')) its.add(Number(k.split('/')[0]));
    return [...its].sort((a, b) => a - b);
  }
}

export const memoryCheckpointStore = (): CheckpointWriter => new CheckpointWriter(new MemoryBackend());
