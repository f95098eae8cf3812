// Temporary directories for tests: each made by tempDir, all of a test file's removed by
// removeTempDirs (in afterAll / afterEach, once the processes and database handles using
// them are closed), so a test run leaves nothing behind.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A fresh directory under the OS temp dir. */
export function tempDir(prefix = 'tabtron-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every directory tempDir made (in this module instance: one per test file). */
export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
