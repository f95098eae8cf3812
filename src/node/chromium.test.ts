import { describe, expect, it } from 'vitest';
import { CHROMIUM_ARGS, chromiumArgs } from './chromium';

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
