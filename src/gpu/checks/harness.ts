// Shared by the kernel tests in Node (Dawn) and in Chromium (e2e/kernels.spec.ts):
// each check runs a kernel on random inputs and compares it with the CPU reference.

import type { GpuContext } from '../context';

export interface CheckResult {
  name: string;
  /** max |gpu - ref| / max(|ref|, tiny): scale-free error */
  relErr: number;
  tol: number;
  detail?: string;
}

/**
 * How much of a tuning sweep to run. Every check tests each kernel config it knows; with 'full' each
 * config runs every shape case of the sweep, with 'one-case' only the first (every config is still
 * compiled and checked once: cheap enough for CI on a CPU device, where shader compiles dominate).
 */
export type Sweep = 'full' | 'one-case';

export interface KernelCheck {
  name: string;
  run(ctx: GpuContext, sweep: Sweep): Promise<CheckResult[]>;
}

/** The shape cases a sweep runs for one more config. */
export function sweepCases<T>(cases: readonly T[], sweep: Sweep): readonly T[] {
  return sweep === 'full' ? cases : cases.slice(0, 1);
}

export function compare(name: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): CheckResult {
  if (got.length < want.length) return { name, relErr: Infinity, tol, detail: `length ${got.length} < ${want.length}` };
  let maxDiff = 0,
    maxRef = 0,
    worst = -1;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= maxDiff)) {
      maxDiff = Number.isNaN(d) ? Infinity : d;
      worst = i;
    }
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  const relErr = maxDiff / Math.max(maxRef, 1e-30);
  return {
    name,
    relErr,
    tol,
    detail: worst >= 0 ? `worst at ${worst}: got ${got[worst]} want ${want[worst]}` : undefined,
  };
}

/** Runs the checks whose name contains `filter` (all without one; with `exact`, the one so named). */
export async function runChecks(
  ctx: GpuContext,
  checks: readonly KernelCheck[],
  filter?: string,
  exact = false,
  sweep: Sweep = 'full',
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    if (filter && (exact ? c.name !== filter : !c.name.includes(filter))) continue;
    try {
      out.push(...(await c.run(ctx, sweep)));
    } catch (e) {
      out.push({ name: c.name, relErr: Infinity, tol: 0, detail: `threw: ${(e as Error).message}` });
    }
  }
  return out;
}
