// Dawn in Node (npm `webgpu`) completes mapAsync, onSubmittedWorkDone and pipeline creation by
// polling: while any is pending it hands a native callback to the global setImmediate, which
// processes Dawn's events and schedules itself again. On a CPU device (SwiftShader, lavapipe)
// that loop kept the JS thread busy for a third to a half of every wait (measured: 1.5–2.1 s of
// main-thread CPU per 2.5–3 s readback), taking a core from the device's own threads on a
// 2-core machine. Spaced 1 ms apart the polls cost ~0.1 s per such wait and the wait got
// shorter. On a real GPU the poll's latency matters more than its CPU: left as Dawn does it.

import type { AdapterSummary } from './context';

let installed = false;

/** whether the adapter computes on the CPU (SwiftShader, Mesa's llvmpipe/lavapipe) */
export function isCpuAdapter(summary: AdapterSummary): boolean {
  return (
    summary.isFallbackAdapter ||
    /swiftshader|llvmpipe|lavapipe/i.test(`${summary.vendor} ${summary.architecture} ${summary.description}`)
  );
}

/** Routes Dawn's native setImmediate callbacks through a 1 ms timer; JS callbacks are untouched. Once
 *  per process; idempotent. */
export function spaceDawnPolling(): void {
  if (installed) return;
  installed = true;
  const immediate = globalThis.setImmediate;
  const spaced = (callback: (...args: unknown[]) => void, ...args: unknown[]) =>
    Function.prototype.toString.call(callback).includes('[native code]')
      ? setTimeout(callback, 1, ...args)
      : immediate(callback, ...args);
  globalThis.setImmediate = Object.assign(spaced, immediate) as unknown as typeof setImmediate;
}
