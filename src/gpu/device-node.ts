// WebGPU in Node through Dawn (npm `webgpu`): kernel tests in Vitest and GPU-server
// benchmarks. On a machine without a GPU this finds Chromium's SwiftShader, or Mesa's lavapipe
// (llvmpipe) where asked: the CPU device here with shader-f16.

import { existsSync, readdirSync } from 'node:fs';
import { GpuContext, requestDevice, summarizeAdapter } from './context';
import { isCpuAdapter, parsePollSpacing, spaceDawnPolling } from './dawn-polling';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
const VULKAN_ICD_DIR = '/usr/share/vulkan/icd.d';
/** how CI and the README install a lavapipe that Dawn accepts (Debian 12's Mesa 22.3 is refused) */
export const LAVAPIPE_INSTALL =
  'apt-get install -t bookworm-backports mesa-vulkan-drivers (Mesa ≥ 25, from deb http://deb.debian.org/debian ' +
  'bookworm-backports main; .ci/run does it)';

/** Mesa lavapipe's Vulkan ICD manifest, or null where none is installed. */
export function lavapipeIcd(): string | null {
  if (!existsSync(VULKAN_ICD_DIR)) return null;
  const name = readdirSync(VULKAN_ICD_DIR)
    .filter((n) => /^lvp_icd.*\.json$/.test(n))
    .sort()[0];
  return name ? `${VULKAN_ICD_DIR}/${name}` : null;
}

// Dawn's instance must outlive its devices: if JS garbage-collects the object create()
// returned, the process aborts at a later GPU event ("futex facility returned an unexpected
// error code", std::system_error, or a segfault), at random, sooner under memory pressure.
const liveInstances: unknown[] = [];

export interface NodeContextOptions {
  /** Chromium's SwiftShader, unless VK_ICD_FILENAMES already names a driver */
  preferSwiftShader?: boolean;
  /** 'lavapipe': Mesa's lavapipe, and fail (naming the install) where it is missing or Dawn gives another
   *  adapter. VK_ICD_FILENAMES is process-wide and Dawn reads it once: use it in a process (a Vitest
   *  file: each runs in its own forked worker) that creates no other Dawn instance. */
  prefer?: 'swiftshader' | 'lavapipe';
  /** timestamp queries unrounded (Dawn's timestamp_quantization off): the step profiler's */
  exactTimestamps?: boolean;
}

export async function createNodeContext(options: NodeContextOptions = {}): Promise<GpuContext> {
  const prefer = options.prefer ?? (options.preferSwiftShader ? 'swiftshader' : undefined);
  if (prefer === 'swiftshader' && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  if (prefer === 'lavapipe') {
    const icd = lavapipeIcd();
    if (!icd) throw new Error(`no Mesa lavapipe here (no ${VULKAN_ICD_DIR}/lvp_icd*.json): ${LAVAPIPE_INSTALL}`);
    if (process.env.VK_ICD_FILENAMES && process.env.VK_ICD_FILENAMES !== icd)
      throw new Error(`lavapipe asked for, but VK_ICD_FILENAMES already names ${process.env.VK_ICD_FILENAMES}`);
    process.env.VK_ICD_FILENAMES = icd;
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  // exactTimestamps: Dawn otherwise rounds timestamp queries (a browser's guard against timing attacks)
  const flags = ['enable-dawn-features=allow_unsafe_apis'];
  if (options.exactTimestamps) flags.push('disable-dawn-features=timestamp_quantization');
  const gpu = create(flags);
  liveInstances.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      prefer === 'lavapipe'
        ? `Dawn found no adapter through lavapipe (${process.env.VK_ICD_FILENAMES}); it needs Mesa ≥ 25: ` +
            LAVAPIPE_INSTALL
        : 'no WebGPU adapter found by Dawn; on a CPU-only machine install chromium-headless-shell (SwiftShader) ' +
            'and run with LD_LIBRARY_PATH=/usr/lib/chromium',
    );
  }
  const summary = summarizeAdapter(adapter);
  if (prefer === 'lavapipe' && !/llvmpipe/i.test(`${summary.architecture} ${summary.description}`))
    throw new Error(`lavapipe asked for, Dawn gave ${summary.vendor} ${summary.description} (${summary.architecture})`);
  const asked = process.env.TABTRON_DAWN_POLLING;
  const spacing = asked ? parsePollSpacing(asked) : isCpuAdapter(summary) ? { timerMs: 1 as const } : { tickUs: 50 };
  if (spacing) spaceDawnPolling(spacing);
  const device = await requestDevice(adapter);
  return new GpuContext(device, summary);
}
