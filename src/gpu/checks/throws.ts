// Test helper: a CheckResult that passes only if `fn` throws an Error whose message
// matches `pattern` (the kernel and argument named), i.e. bad shapes fail loudly.
import type { CheckResult } from './harness';

export function throwsMatching(name: string, fn: () => unknown, pattern: RegExp): CheckResult {
  try {
    fn();
  } catch (e) {
    const msg = (e as Error).message;
    return pattern.test(msg)
      ? { name, relErr: 0, tol: 0 }
      : { name, relErr: 1, tol: 0, detail: `threw the wrong error: ${msg}` };
  }
  return { name, relErr: 1, tol: 0, detail: `did not throw (expected ${pattern})` };
}
