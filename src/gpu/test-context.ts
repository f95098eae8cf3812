// One Dawn device per test file: training runs in a file share it (and its pipeline cache), so
// each kernel is compiled once per file instead of once per run — on a CPU device (SwiftShader)
// compiling is most of a tiny run's time.
import type { GpuContext } from './context';
import { createNodeContext } from './device-node';

let shared: Promise<GpuContext> | null = null;

export function sharedTestContext(): Promise<GpuContext> {
  shared ??= createNodeContext({ preferSwiftShader: true });
  return shared;
}

let lavapipe: Promise<GpuContext> | null = null;

/** One Dawn device on Mesa's lavapipe (the CPU device here with shader-f16), for the f16 tests. It fails,
 *  naming the install, where lavapipe is missing. VK_ICD_FILENAMES is per process: a file that uses
 *  this must not use sharedTestContext (Vitest runs each file in a process of its own). */
export function sharedLavapipeContext(): Promise<GpuContext> {
  lavapipe ??= createNodeContext({ prefer: 'lavapipe' });
  return lavapipe;
}
