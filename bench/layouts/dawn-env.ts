// Dawn (npm `webgpu`) on a machine without a GPU finds SwiftShader through Chromium's own
// Vulkan loader (/usr/lib/chromium/libvulkan.so.1). The dynamic loader reads LD_LIBRARY_PATH
// only when a process starts, so setting it from JS is too late: when it is missing this
// re-runs the same command (same node flags and arguments) with it set, and exits with the
// child's status. Elsewhere (a GPU machine, or the variable already set) it does nothing.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const CHROMIUM_LIB = '/usr/lib/chromium';

export function ensureDawnEnv(): void {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const paths = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (process.platform !== 'linux' || paths.includes(CHROMIUM_LIB) || process.env.TABTRON_DAWN_ENV) return;
  if (!existsSync(`${CHROMIUM_LIB}/libvulkan.so.1`)) return;
  const env = { ...process.env, LD_LIBRARY_PATH: [CHROMIUM_LIB, ...paths].join(':'), TABTRON_DAWN_ENV: '1' };
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env });
  if (child.error) throw child.error;
  process.exit(child.status ?? 1);
}
