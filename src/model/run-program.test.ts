import { describe, expect, it } from 'vitest';
import type { Dispatch } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import { splitAtLastUse } from './run-program';

// Buffers are compared by identity only: plain objects stand in for GPUBuffers.
const [A, B] = [{ label: 'A' }, { label: 'B' }] as unknown as GPUBuffer[];
const dispatch = (label: string, ...touches: [GPUBuffer, number, number][]): Dispatch =>
  ({
    label,
    touches: touches.map(([buffer, offset, size]) => ({ buffer, offset, size })),
  }) as unknown as Dispatch;
const tensor = (buffer: GPUBuffer, offset: number, length: number): GpuTensor => ({
  buffer,
  offset,
  length,
  shape: [length],
});

describe('splitAtLastUse: the work a TP sum need not wait for', () => {
  const dx = tensor(A, 256, 64); // bytes [256, 512)
  it('defers the dispatches after the last one touching the tensor (dW, db after dx)', () => {
    const list = [
      dispatch('dx', [A, 256, 256], [B, 0, 64]),
      dispatch('dW', [B, 0, 64], [A, 0, 256]),
      dispatch('db', [A, 512, 16]),
    ];
    const [first, later] = splitAtLastUse(list, dx);
    expect(first.map((d) => d.label)).toEqual(['dx']);
    expect(later.map((d) => d.label)).toEqual(['dW', 'db']);
  });
  it('with several tensors (a gather’s sources and destinations), splits after the last touching any', () => {
    const list = [dispatch('writes dx', [A, 256, 4]), dispatch('reads full', [B, 0, 4]), dispatch('other', [A, 0, 4])];
    const full = tensor(B, 0, 16);
    expect(splitAtLastUse(list, dx, full).map((l) => l.map((d) => d.label))).toEqual([
      ['writes dx', 'reads full'],
      ['other'],
    ]);
  });
  it('keeps order: nothing moves past a later use, and a dispatch that does not say what it binds stays', () => {
    const list = [dispatch('a', [B, 0, 4]), dispatch('reads dx', [A, 500, 4]), dispatch('b', [B, 0, 4])];
    expect(splitAtLastUse(list, dx).map((l) => l.map((d) => d.label))).toEqual([['a', 'reads dx'], ['b']]);
    const unknown = { label: 'opaque' } as unknown as Dispatch;
    expect(splitAtLastUse([dispatch('x', [B, 0, 4]), unknown], dx)[1]).toEqual([]);
  });
});
