// A Node (Dawn) context created with extra Dawn instance flags, e.g.
// 'enable-dawn-features=allow_unsafe_apis,disable_robustness' to measure what WebGPU's
// bounds clamping costs (browsers always keep it on; for comparison only).
import { GpuContext, requestDevice, summarizeAdapter } from '../src/gpu/context';

// Dawn's instance must outlive its devices: a GPU object that JS garbage-collects takes the
// instance with it and the process dies at the next event (seen as futex/system_error aborts).
const keepAlive: unknown[] = [];

export async function createFlaggedNodeContext(flags: string[]): Promise<GpuContext> {
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const gpu = create(flags);
  keepAlive.push(gpu);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error(`no WebGPU adapter found by Dawn with flags ${flags.join(' ')}`);
  return new GpuContext(await requestDevice(adapter), summarizeAdapter(adapter));
}
