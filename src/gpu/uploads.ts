// Reusable MAP_WRITE upload buffers for large host → GPU writes. queue.writeBuffer stages what it
// is given in Dawn's own upload memory; on the H200 that took 0.24–1.5 ms for 2 MiB and 2.8–3.2 ms
// for 8 MiB against 0.22–0.31 and 0.76–0.79 ms here, while for 4 KiB it is faster (0.01–0.02
// against 0.04–0.08 ms; bench/readback.ts, bench/results/h200-train-overlap-run{2,3}.json):
// GpuContext sends writes from 256 KiB up this way.
// A write takes a buffer that is already mapped, copies the data in, unmaps it and queues its
// copy into the destination (ordered with other queue work, like writeBuffer). The buffer is mapped
// again in the background once the GPU has read it, and then serves the next write.
import { stagingSize } from './staging';

export class UploadRing {
  private readonly ready: GPUBuffer[] = [];
  private readyBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    /** mapped buffers kept for reuse, in bytes */
    private readonly maxReadyBytes = 512 * 2 ** 20,
  ) {}

  write(dst: GPUBuffer, dstOffset: number, data: ArrayBufferView): void {
    const bytes = data.byteLength;
    const size = stagingSize(bytes);
    let i = -1;
    for (let j = 0; j < this.ready.length; j++) {
      const s = this.ready[j].size;
      if (s >= size && s <= 4 * size && (i < 0 || s < this.ready[i].size)) i = j;
    }
    let buf: GPUBuffer;
    if (i >= 0) {
      buf = this.ready.splice(i, 1)[0];
      this.readyBytes -= buf.size;
    } else {
      buf = this.device.createBuffer({
        label: `upload.${size}`,
        size,
        usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC,
        mappedAtCreation: true,
      });
    }
    new Uint8Array(buf.getMappedRange(0, size), 0, bytes).set(new Uint8Array(data.buffer, data.byteOffset, bytes));
    buf.unmap();
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(buf, 0, dst, dstOffset, bytes);
    this.device.queue.submit([enc.finish()]);
    buf.mapAsync(GPUMapMode.WRITE).then(
      () => {
        if (this.readyBytes + buf.size > this.maxReadyBytes) return buf.destroy();
        this.ready.push(buf);
        this.readyBytes += buf.size;
      },
      () => buf.destroy(), // device lost or destroyed: nothing to keep
    );
  }
}
