// Big benchmark inputs without generating gigabytes of random numbers: element i of a
// filled buffer is block[i % block.length], a prime-length block of N(0,1) samples, so a
// wrong index in a kernel almost never lands on the same value; spot checks recompute it.
import type { GpuContext } from '../src/gpu/context';
import type { GpuTensor } from '../src/gpu/tensor';
import { randn } from '../src/util/rng';

export const BLOCK = randn(1_000_003, 12345);

export function patternAt(i: number): number {
  return BLOCK[i % BLOCK.length];
}

/** A tensor of `length` f32 in its own buffer, filled with the pattern. */
export function patternTensor(ctx: GpuContext, length: number, name: string): GpuTensor {
  const t = ctx.tensor([length], name);
  const chunk = new Float32Array(BLOCK.length * 16);
  for (let r = 0; r < 16; r++) chunk.set(BLOCK, r * BLOCK.length);
  for (let at = 0; at < length; at += chunk.length) {
    const n = Math.min(chunk.length, length - at);
    ctx.device.queue.writeBuffer(t.buffer, at * 4, chunk.buffer, 0, n * 4);
  }
  return t;
}
