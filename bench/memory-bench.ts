// Achieved bandwidth of the memory-bound kernels (bench/memory/*): least bytes / time.
import type { GpuContext } from '../src/gpu/context';
import type { GpuTensor } from '../src/gpu/tensor';
import { type MemCase, tensorMaker } from './memory/case';
import type { Timer } from './timing';

export interface MemResult {
  name: string;
  bytes: number;
  ms?: number;
  gbps?: number;
  method?: string;
  error?: string;
}

export async function benchMemoryCase(ctx: GpuContext, timer: Timer, c: MemCase): Promise<MemResult> {
  const made: GpuTensor[] = [];
  try {
    const list = c.build(ctx, tensorMaker(ctx, made));
    const t = await timer.time(list, { targetMs: 100 });
    return { name: c.name, bytes: c.bytes, ms: t.ms, gbps: c.bytes / (t.ms * 1e6), method: t.method };
  } catch (e) {
    return { name: c.name, bytes: c.bytes, error: (e as Error).message };
  } finally {
    for (const t of made) t.buffer.destroy();
  }
}
