// WebGPU in Node through Dawn (npm `webgpu`): kernel tests in Vitest and GPU-server
// benchmarks. On a machine without a GPU this finds Chromium's SwiftShader.

import { existsSync } from 'node:fs';
import { GpuContext, requestDevice, summarizeAdapter } from './context';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// Dawn's instance must outlive its devices: if JS garbage-collects the object create()
// returned, the process aborts at a later GPU event ("futex facility returned an unexpected
// error code", std::system_error, or a segfault), at random, sooner under memory pressure.
const liveInstances: unknown[] = [];

export async function createNodeContext(options: { preferSwiftShader?: boolean } = {}): Promise<GpuContext> {
  if (options.preferSwiftShader && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(['enable-dawn-features=allow_unsafe_apis']);
  liveInstances.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    throw new Error(
      'no WebGPU adapter found by Dawn; on a CPU-only machine install chromium-headless-shell (SwiftShader) and run with LD_LIBRARY_PATH=/usr/lib/chromium',
    );
  }
  const device = await requestDevice(adapter);
  return new GpuContext(device, summarizeAdapter(adapter));
}
