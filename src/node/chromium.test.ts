import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumArgs, chromiumPath, launchChromium } from './chromium';

describe('chromiumArgs', () => {
  it('is the default flags when nothing is added', () => {
    expect(chromiumArgs([], '')).toEqual(CHROMIUM_ARGS);
  });

  it('appends TABTRON_CHROMIUM_ARGS (split on any whitespace), then the caller’s flags', () => {
    const args = chromiumArgs(['--foo'], ' --enable-features=Vulkan\n  --use-angle=vulkan ');
    expect(args.slice(0, CHROMIUM_ARGS.length)).toEqual(CHROMIUM_ARGS);
    expect(args.slice(CHROMIUM_ARGS.length)).toEqual(['--enable-features=Vulkan', '--use-angle=vulkan', '--foo']);
  });

  it('drops --in-process-gpu on --no-in-process-gpu, and passes no such flag on to Chromium', () => {
    expect(CHROMIUM_ARGS).toContain('--in-process-gpu');
    const args = chromiumArgs([], '--no-in-process-gpu --ignore-gpu-blocklist');
    expect(args).not.toContain('--in-process-gpu');
    expect(args).not.toContain('--no-in-process-gpu');
    expect(args).toContain('--ignore-gpu-blocklist');
    expect(args).toContain('--no-sandbox');
  });
});

// TABTRON_CHROMIUM pointed at a wrapper that dies of SIGSEGV on its first `failures` starts, then runs the real
// browser: what two launches at once did on a loaded 2-core machine.
describe('launchChromium', { timeout: 60_000 }, () => {
  const real = chromiumPath();
  const dir = mkdtempSync(join(tmpdir(), 'tabtron-launch-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function launchThrough(failures: number) {
    const count = join(dir, `starts-${failures}`);
    const wrapper = join(dir, `crashing-${failures}.sh`);
    writeFileSync(
      wrapper,
      `#!/bin/sh\necho x >> ${count}\n[ $(wc -l < ${count}) -le ${failures} ] && kill -SEGV $$\nexec ${real} "$@"\n`,
    );
    chmodSync(wrapper, 0o755);
    const before = process.env.TABTRON_CHROMIUM;
    process.env.TABTRON_CHROMIUM = wrapper;
    const starts = () => readFileSync(count, 'utf8').split('\n').filter(Boolean).length;
    try {
      const browser = await launchChromium();
      const version = browser.version();
      await browser.close();
      return { version, starts: starts() };
    } catch (e) {
      return { error: String((e as Error).message), starts: starts() };
    } finally {
      if (before === undefined) delete process.env.TABTRON_CHROMIUM;
      else process.env.TABTRON_CHROMIUM = before;
    }
  }

  it('a browser that dies while starting is launched once more', async () => {
    const r = await launchThrough(1);
    expect(r).toMatchObject({ starts: 2 });
    expect(r.version).toMatch(/^\d+\./);
  });

  it('a second death is the launch’s error', async () => {
    const r = await launchThrough(2);
    expect(r).toMatchObject({ starts: 2 });
    expect(r.error).toContain('browserType.launch');
  });
});
