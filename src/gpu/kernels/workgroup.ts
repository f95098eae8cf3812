// Workgroup sizes derived from the device limits (SwiftShader allows 256 invocations,
// real GPUs 1024): kernels never hard-code a particular GPU's numbers.
import type { GpuContext } from '../context';

/** Largest power of two ≤ min(256, device limits): the default 1-D workgroup size. */
export function linearWorkgroup(ctx: GpuContext): number {
  const cap = Math.min(256, ctx.limits.maxComputeInvocationsPerWorkgroup, ctx.limits.maxComputeWorkgroupSizeX);
  return 2 ** Math.floor(Math.log2(cap));
}

/** Workgroup size for one-workgroup-per-row reductions over `cols` values: a power of two
 * in [32, linearWorkgroup], no larger than needed for short rows. */
export function rowWorkgroup(ctx: GpuContext, cols: number): number {
  const max = linearWorkgroup(ctx);
  let wg = 32;
  while (wg < cols && wg < max) wg *= 2;
  return Math.min(wg, max);
}

/** Column-sum tiling: TX adjacent columns × (WG/TX) row lanes per workgroup. TX = 8 keeps
 * each row's load one 32-byte memory sector while giving C/8 workgroups (C/32 measured
 * 4× slower on an H100 for C = 768: too few workgroups to fill the GPU). */
export function columnTiling(ctx: GpuContext): { WG: number; TX: number } {
  const WG = linearWorkgroup(ctx);
  return { WG, TX: Math.min(8, WG) };
}
