// Argument checks shared by the kernel wrappers: a wrong shape or an aliased output
// throws at bind time with the kernel and argument named, instead of a silent
// out-of-bounds read or an asynchronous WebGPU validation error.
import { describe, type GpuTensor } from '../tensor';

export function expectLength(kernel: string, arg: string, t: GpuTensor, want: number): void {
  if (t.length !== want) throw new Error(`${kernel}: ${arg} ${describe(t)} has ${t.length} elements, expected ${want}`);
}

export function expectPositiveInts(kernel: string, dims: Record<string, number>): void {
  for (const [k, v] of Object.entries(dims)) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${kernel}: ${k} must be a positive integer, got ${v}`);
  }
}

export function expectFinite(kernel: string, values: Record<string, number>): void {
  for (const [k, v] of Object.entries(values)) {
    if (!Number.isFinite(v)) throw new Error(`${kernel}: ${k} must be a finite number, got ${v}`);
  }
}

/** WebGPU rejects a dispatch that binds one buffer both read-only and writable. */
export function expectNoAlias(
  kernel: string,
  written: Record<string, GpuTensor>,
  read: Record<string, GpuTensor>,
): void {
  for (const [w, wt] of Object.entries(written)) {
    for (const [r, rt] of Object.entries(read)) {
      if (wt.buffer === rt.buffer)
        throw new Error(
          `${kernel}: output ${w} shares a GPU buffer with input ${r} (a written binding may not alias a read one)`,
        );
    }
  }
}
