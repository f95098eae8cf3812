// A Node (Dawn) context created with extra Dawn instance flags, e.g.
// 'enable-dawn-features=allow_unsafe_apis,disable_robustness' to measure what WebGPU's
// bounds clamping costs (browsers always keep it on; for comparison only).
import { GpuContext, requestDevice, summarizeAdapter } from '../src/gpu/context';

export async function createFlaggedNodeContext(flags: string[]): Promise<GpuContext> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const adapter = await create(flags).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`no WebGPU adapter found by Dawn with flags ${flags.join(' ')}`);
  return new GpuContext(await requestDevice(adapter), summarizeAdapter(adapter));
}
