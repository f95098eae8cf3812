// Launches Debian's headless Chromium through playwright-core with WebGPU (SwiftShader
// on machines without a GPU) and WebRTC over loopback enabled. Used by the CLI and the tests.

import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const candidates = () =>
  [process.env.TABTRON_CHROMIUM, '/usr/lib/chromium/chromium-headless-shell', '/usr/lib/chromium/chromium'].filter(
    (p): p is string => Boolean(p),
  );

export function chromiumPath(): string {
  const found = candidates().find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `no Chromium found (looked at ${candidates().join(', ')}); install it with: apt-get install -y chromium-headless-shell (or set TABTRON_CHROMIUM)`,
    );
  }
  return found;
}

export const CHROMIUM_ARGS = [
  '--enable-unsafe-webgpu',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  // WebGPU in the browser process: with 8 tabs training at once on SwiftShader (2 cores) the
  // separate GPU process exited after about a minute (exit code 5, every tab's device lost).
  // In-process, 8 tabs of one browser crash the whole browser the same way (SwiftShader's worker
  // thread traps, measured 2026-12-01), so multi-tab runs open a browser per tab
  // (coordinator/headless.ts), as volunteers each have their own.
  '--in-process-gpu',
];

/** The flags Chromium is launched with: CHROMIUM_ARGS, then `extra` (TABTRON_CHROMIUM_ARGS, space-separated,
 *  e.g. a GPU machine's Vulkan flags), then `extraArgs`. `--no-in-process-gpu` among them is no Chromium flag:
 *  it drops `--in-process-gpu`, so that WebGPU runs in Chromium's own GPU process. */
export function chromiumArgs(extraArgs: string[] = [], extra = process.env.TABTRON_CHROMIUM_ARGS ?? ''): string[] {
  const added = [...extra.split(/\s+/).filter(Boolean), ...extraArgs];
  const ownGpuProcess = added.includes('--no-in-process-gpu');
  return [
    ...CHROMIUM_ARGS.filter((a) => !(ownGpuProcess && a === '--in-process-gpu')),
    ...added.filter((a) => a !== '--no-in-process-gpu'),
  ];
}

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const path = chromiumPath();
  const args = chromiumArgs(extraArgs);
  if (path.endsWith('/chromium')) args.push('--headless=new');
  const launch = () => chromium.launch({ executablePath: path, args, headless: true });
  try {
    return await launch();
  } catch (e) {
    // Seen on a loaded 2-core machine: two launches at once both died of SIGSEGV before the browser was up,
    // and the next launch worked. One more try; a second failure is reported as it is.
    const first = String((e as Error).message ?? e).split('\n')[0];
    process.stderr.write(`chromium: the launch failed (${first}); launching once more\n`);
    return launch();
  }
}
