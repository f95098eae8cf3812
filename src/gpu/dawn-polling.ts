// Dawn in Node (npm `webgpu`) completes mapAsync, onSubmittedWorkDone and pipeline creation by
// polling: while any is pending it hands a native callback to the global setImmediate, which
// processes Dawn's events and schedules itself again, as fast as the event loop turns.
// - On a CPU device (SwiftShader, lavapipe) that loop kept the JS thread busy for a third to a half
//   of every wait (measured: 1.5–2.1 s of main-thread CPU per 2.5–3 s readback), taking a core from
//   the device's own threads on a 2-core machine. Spaced 1 ms apart the polls cost ~0.1 s per such
//   wait and the wait got shorter.
// - On an NVIDIA H200 (driver 580) polling without pause made about one training step in 8–10 take
//   30–120 ms longer: the GPU had finished and sat idle while the completion went unseen
//   (bench/README.md, "Dawn's polls and the step hiccups"). At most one poll per 50 µs, ticked by a
//   worker thread (poll-ticker.ts) so that the JS thread stays free, removed them.
// TABTRON_DAWN_POLLING (immediate, timer, tick:µs, sleep:µs) overrides the choice, for comparisons.

import type { AdapterSummary } from './context';
import { PollTicker } from './poll-ticker';

let installed = false;

/** whether the adapter computes on the CPU (SwiftShader, Mesa's llvmpipe/lavapipe) */
export function isCpuAdapter(summary: AdapterSummary): boolean {
  return (
    summary.isFallbackAdapter ||
    /swiftshader|llvmpipe|lavapipe/i.test(`${summary.vendor} ${summary.architecture} ${summary.description}`)
  );
}

/** How Dawn's polls are spaced: a 1 ms timer; a worker's tick every `tickUs` µs (poll-ticker.ts);
 *  or the JS thread held asleep `sleepUs` µs before the next immediate. */
export type PollSpacing = { timerMs: 1 } | { tickUs: number } | { sleepUs: number };

/** TABTRON_DAWN_POLLING's value: `immediate` (Dawn's own: null), `timer`, `tick:µs` or `sleep:µs`. */
export function parsePollSpacing(text: string): PollSpacing | null {
  if (text === 'immediate') return null;
  if (text === 'timer') return { timerMs: 1 };
  const m = /^(tick|sleep):(\d+(?:\.\d+)?)$/.exec(text);
  if (!m) throw new Error(`TABTRON_DAWN_POLLING must be immediate, timer, tick:µs or sleep:µs, got '${text}'`);
  return m[1] === 'tick' ? { tickUs: Number(m[2]) } : { sleepUs: Number(m[2]) };
}

type Callback = (...args: unknown[]) => void;

/** Routes Dawn's native setImmediate callbacks through `spacing`; JS callbacks are untouched. Once
 *  per process; idempotent. */
export function spaceDawnPolling(spacing: PollSpacing = { timerMs: 1 }): void {
  if (installed) return;
  installed = true;
  const immediate = globalThis.setImmediate;
  let later: (callback: Callback, args: unknown[]) => unknown;
  if ('timerMs' in spacing) later = (callback, args) => setTimeout(callback, spacing.timerMs, ...args);
  else if ('tickUs' in spacing) {
    const ticker = new PollTicker(spacing.tickUs);
    later = (callback, args) => ticker.later(callback, args);
  } else {
    const nap = new Int32Array(new SharedArrayBuffer(4));
    later = (callback, args) => {
      Atomics.wait(nap, 0, 0, spacing.sleepUs / 1000);
      return immediate(callback, ...args);
    };
  }
  const spaced = (callback: Callback, ...args: unknown[]) =>
    Function.prototype.toString.call(callback).includes('[native code]')
      ? later(callback, args)
      : immediate(callback, ...args);
  globalThis.setImmediate = Object.assign(spaced, immediate) as unknown as typeof setImmediate;
}
