// A recorded compute step: pipeline + bind group + workgroup counts, built once and
// encoded every training step (llm.c style: everything allocated up front).

/** Bytes [offset, offset + size) of a buffer. */
export interface BufferRange {
  readonly buffer: GPUBuffer;
  readonly offset: number;
  readonly size: number;
}

export interface Dispatch {
  readonly label: string;
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly workgroups: readonly [number, number, number];
  /** the storage ranges it binds (read or written); unknown when absent */
  readonly touches?: readonly BufferRange[];
}

/** Whether `d` may read or write any byte of `r` (true when `d` does not say what it binds). */
export function dispatchTouches(d: Dispatch, r: BufferRange): boolean {
  if (!d.touches) return true;
  return d.touches.some((t) => t.buffer === r.buffer && t.offset < r.offset + r.size && r.offset < t.offset + t.size);
}

export const MAX_WORKGROUPS_PER_DIM = 65535;

/** Splits a 1-D workgroup count over x and y so that neither exceeds the WebGPU limit.
 * Shaders recover the flat id as `wid.x + wid.y * nwg.x`. */
export function grid1d(workgroups: number): [number, number, number] {
  if (workgroups <= MAX_WORKGROUPS_PER_DIM) return [Math.max(1, workgroups), 1, 1];
  const y = Math.ceil(workgroups / MAX_WORKGROUPS_PER_DIM);
  const x = Math.ceil(workgroups / y);
  return [x, y, 1];
}

export function encodeDispatches(pass: GPUComputePassEncoder, list: readonly Dispatch[]): void {
  for (const d of list) {
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
  }
}
