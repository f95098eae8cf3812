// runHeadless keeps its in-process coordinator's data in a temporary directory and removes it
// however the run ends (these end before any tab opens; e2e/coordinator-headless.spec.ts and
// e2e/multitab-cli.spec.ts check a finished and an interrupted run).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHeadless } from './headless';
import { TINY } from './test-helpers';

const root = mkdtempSync(join(tmpdir(), 'tabtron-headless-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('runHeadless temporary coordinator directory', () => {
  it('is removed when the run is refused after the coordinator started', async () => {
    const tempRoot = mkdtempSync(join(root, 'refused-'));
    const signals = [process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')];
    const err = await runHeadless({
      sources: [TINY, { file: 'tp2.yml', text: 'model_parallel_size: 2' }],
      tabs: 1,
      tempRoot,
    }).catch((e: Error) => e);
    expect((err as Error).message).toBe("--tabs 1 is fewer than the run's 2 ranks (PP 1 × TP 2 × DP 1)");
    expect(readdirSync(tempRoot)).toEqual([]);
    expect([process.listenerCount('SIGINT'), process.listenerCount('SIGTERM')]).toEqual(signals);
  });

  it('is removed when the coordinator rejects the config', async () => {
    const tempRoot = mkdtempSync(join(root, 'rejected-'));
    const err = await runHeadless({
      sources: [TINY, { file: 'bad.yml', text: 'hidden_size: 63' }],
      tabs: 1,
      tempRoot,
    }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/^coordinator POST \/api\/runs: .*hidden_size/);
    expect(readdirSync(tempRoot)).toEqual([]);
  });

  it('is not made when a data directory is given, and that one is kept', async () => {
    const dataDir = mkdtempSync(join(root, 'data-'));
    await runHeadless({ sources: [TINY, { file: 'tp2.yml', text: 'model_parallel_size: 2' }], tabs: 1, dataDir }).catch(
      () => {},
    );
    expect(readdirSync(dataDir)).toContain('tabtron.sqlite');
  });
});
