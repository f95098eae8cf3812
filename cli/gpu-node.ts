// A WebGPU device for the CLI's model commands (eval, generate) through Dawn in Node: the
// machine's GPU, or SwiftShader from Chromium's install. Dawn finds SwiftShader only through
// Chromium's own Vulkan loader, which the dynamic linker sees only when LD_LIBRARY_PATH names
// its folder at process start; on a machine with no other Vulkan loader the command re-runs
// itself once so (ensureVulkanLoader, called before any work).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { GpuContext } from '../src/gpu/context';
import { createNodeContext } from '../src/gpu/device-node';
import { CliError } from './errors';

const CHROMIUM_DIR = '/usr/lib/chromium';
const MARK = 'TABTRON_GPU_REEXEC';
const SYSTEM_LOADERS = [
  '/usr/lib/x86_64-linux-gnu/libvulkan.so.1',
  '/usr/lib/aarch64-linux-gnu/libvulkan.so.1',
  '/usr/lib64/libvulkan.so.1',
  '/usr/lib/libvulkan.so.1',
];

function reexecWithChromiumLoader(): boolean {
  const paths = (process.env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  if (process.env[MARK] || !existsSync(`${CHROMIUM_DIR}/libvulkan.so.1`) || paths.includes(CHROMIUM_DIR)) return false;
  const r = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, [MARK]: '1', LD_LIBRARY_PATH: [CHROMIUM_DIR, ...paths].join(':') },
  });
  process.exit(r.status ?? 1);
}

/** Re-runs this command with Chromium's Vulkan loader visible when the system has none. */
export function ensureVulkanLoader(): void {
  if (process.platform === 'linux' && !SYSTEM_LOADERS.some((p) => existsSync(p))) reexecWithChromiumLoader();
}

export async function nodeGpu(): Promise<GpuContext> {
  try {
    return await createNodeContext({ preferSwiftShader: true });
  } catch (e) {
    reexecWithChromiumLoader();
    throw new CliError(`no WebGPU device: ${(e as Error).message}`);
  }
}
