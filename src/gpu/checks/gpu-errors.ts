// Test helper: runs `fn` inside WebGPU validation and internal error scopes and turns a
// captured error (a bad shader, an aliased binding) into a failing CheckResult with its
// message, instead of a silently skipped dispatch.
import type { GpuContext } from '../context';
import type { CheckResult } from './harness';

export async function noGpuErrors(ctx: GpuContext, name: string, fn: () => void): Promise<CheckResult> {
  ctx.device.pushErrorScope('validation');
  ctx.device.pushErrorScope('internal');
  let thrown: string | undefined;
  try {
    fn();
  } catch (e) {
    thrown = (e as Error).message;
  }
  const internal = await ctx.device.popErrorScope();
  const validation = await ctx.device.popErrorScope();
  const msg = thrown ?? validation?.message ?? internal?.message;
  return { name, relErr: msg ? 1 : 0, tol: 0, detail: msg };
}
