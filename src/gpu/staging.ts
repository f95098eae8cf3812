// Reusable MAP_READ staging buffers for readbacks. Creating a buffer per read costs an
// allocation, its first-touch page faults and a destroy; a ring of buffers that outlive the
// read leaves only the copy and the map. Sizes are powers of two (≥ 64 KiB) so that buffers
// serve reads of similar sizes; a read takes the smallest free buffer that fits. Buffers in
// use (mapped, or with a map pending) are out of the ring until released, so any number of
// reads may be in flight; what is free beyond `maxFreeBytes` is destroyed.

const MIN_BYTES = 64 * 1024;

export interface StagingStats {
  /** buffers created since the ring was made */
  created: number;
  /** reads served by a buffer that already existed */
  reused: number;
  /** bytes held by free buffers now */
  freeBytes: number;
}

export function stagingSize(bytes: number): number {
  let size = MIN_BYTES;
  while (size < bytes) size *= 2;
  return size;
}

export class StagingRing {
  private readonly free: GPUBuffer[] = [];
  private readonly stats = { created: 0, reused: 0 };

  constructor(
    private readonly device: GPUDevice,
    /** free buffers beyond this many bytes are destroyed when released */
    private readonly maxFreeBytes = 512 * 2 ** 20,
  ) {}

  /** A MAP_READ | COPY_DST buffer of at least `bytes`, unmapped; give it back with release(). */
  acquire(bytes: number): GPUBuffer {
    const size = stagingSize(bytes);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const s = this.free[i].size;
      if (s >= size && (best < 0 || s < this.free[best].size)) best = i;
    }
    if (best >= 0 && this.free[best].size <= 4 * size) {
      this.stats.reused++;
      return this.free.splice(best, 1)[0];
    }
    this.stats.created++;
    return this.device.createBuffer({
      label: `staging.${size}`,
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Puts an unmapped buffer back (or destroys it when the ring holds enough). */
  release(buf: GPUBuffer): void {
    this.free.push(buf);
    let bytes = this.free.reduce((a, b) => a + b.size, 0);
    while (bytes > this.maxFreeBytes && this.free.length > 0) {
      // drop the largest first: small buffers serve the frequent small reads
      let big = 0;
      for (let i = 1; i < this.free.length; i++) if (this.free[i].size > this.free[big].size) big = i;
      const [gone] = this.free.splice(big, 1);
      bytes -= gone.size;
      gone.destroy();
    }
  }

  summary(): StagingStats {
    return { ...this.stats, freeBytes: this.free.reduce((a, b) => a + b.size, 0) };
  }
}
