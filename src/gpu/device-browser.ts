// WebGPU in a page or a Worker (navigator.gpu).

import { GpuContext, requestDevice, summarizeAdapter } from './context';

export async function createBrowserContext(): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new Error('this browser has no WebGPU (navigator.gpu is missing)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new Error('WebGPU is present but no adapter was found');
  const device = await requestDevice(adapter);
  return new GpuContext(device, summarizeAdapter(adapter));
}
