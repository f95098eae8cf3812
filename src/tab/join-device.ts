// What this browser can offer a run: WebGPU adapter, its limits, and whether it is
// enough to hold a rank. Runs on the page's main thread (navigator.gpu exists in
// workers too, but the page must be able to tell the user before starting one).

import type { DeviceInfo } from '../protocol';

/** Limits a tab needs to hold a rank of a small model; the rank worker checks its real needs. */
export const MIN_LIMITS: Readonly<Record<string, number>> = {
  maxComputeInvocationsPerWorkgroup: 64,
  maxComputeWorkgroupStorageSize: 16 * 1024,
  maxStorageBufferBindingSize: 64 * 1024 * 1024,
  maxBufferSize: 64 * 1024 * 1024,
  maxStorageBuffersPerShaderStage: 6,
};

const REPORTED_LIMITS = [
  ...Object.keys(MIN_LIMITS),
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
];

export async function describeDevice(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<DeviceInfo> {
  const userAgent = globalThis.navigator?.userAgent?.slice(0, 500);
  const hidden = typeof document === 'undefined' ? undefined : document.visibilityState === 'hidden';
  if (!gpu) return { webgpu: false, userAgent, hidden };
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch {
    adapter = null;
  }
  if (!adapter) return { webgpu: false, userAgent, hidden };
  const info = adapter.info;
  const limits: Record<string, number> = {};
  for (const k of REPORTED_LIMITS) {
    const v = (adapter.limits as unknown as Record<string, number>)[k];
    if (typeof v === 'number') limits[k] = v;
  }
  return {
    webgpu: true,
    adapter: {
      vendor: info.vendor.slice(0, 200),
      architecture: info.architecture.slice(0, 200),
      device: info.device.slice(0, 200),
      description: info.description.slice(0, 500),
      isFallbackAdapter: (info as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
    },
    limits,
    features: [...adapter.features].slice(0, 64).map((f) => String(f).slice(0, 64)),
    userAgent,
    hidden,
  };
}

/** Why this browser cannot take part, in words for the contributor; null when it can. */
export function cannotTakePart(d: DeviceInfo): string | null {
  if (!d.webgpu)
    return 'This browser has no WebGPU adapter. Use a recent Chrome or Edge (or Firefox/Safari with WebGPU enabled) on a machine with a GPU.';
  const short = Object.entries(MIN_LIMITS).filter(([k, min]) => (d.limits?.[k] ?? 0) < min);
  if (short.length)
    return `This GPU's limits are too small to hold a rank: ${short.map(([k, min]) => `${k} ${d.limits?.[k] ?? 'missing'} < ${min}`).join(', ')}.`;
  return null;
}

/** Shown while the tab is in the background (browsers throttle hidden tabs). */
export const BACKGROUND_WARNING =
  'This tab is in the background: the browser may slow it down, which holds up every other rank. Keep it visible while training.';
