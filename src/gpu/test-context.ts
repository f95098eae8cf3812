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
