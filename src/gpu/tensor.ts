// A view into a GPUBuffer holding f32 (or u32/i32) elements.
// Views inside one big buffer let the optimizer and the gradient norm run as a
// single dispatch over every parameter (see model/params.ts).

export interface GpuTensor {
  readonly buffer: GPUBuffer;
  /** byte offset into `buffer`; a multiple of the device's storage offset alignment */
  readonly offset: number;
  /** number of 4-byte elements */
  readonly length: number;
  readonly shape: readonly number[];
  readonly name?: string;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function byteSize(t: GpuTensor): number {
  return t.length * 4;
}

export function describe(t: GpuTensor): string {
  return `${t.name ?? 'tensor'}(${t.shape.join('×')})`;
}
