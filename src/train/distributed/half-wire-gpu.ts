// Mixed precision's pipeline tensors packed on the GPU: a stage's output (or input gradient)
// is packed to 16-bit pairs before the readback, so the host reads and sends half the bytes,
// and what arrives is unpacked on the GPU. The wire bytes are those of comm/compress/half-wire.ts
// (u16 little-endian, round to nearest even); both kernels are checked bit for bit.
import type { Dispatch } from '../../gpu/dispatch';
import { packedWords, packHalf, unpackHalf } from '../../gpu/kernels/half-pack';
import type { GpuTensor } from '../../gpu/tensor';
import type { HalfFormat } from '../precision';
import type { Trainer } from '../trainer';

/** Bytes of n values on the GPU path's wire (whole u32 words). */
export const halfWireBytes = (n: number): number => 4 * packedWords(n);

class HalfWireGpu {
  private readonly sendScratch: GpuTensor;
  private readonly recvScratch: GpuTensor;
  private readonly packs = new Map<string, Dispatch>();
  private readonly unpacks = new Map<string, Dispatch>();
  private readonly ids = new Map<GPUBuffer, number>();

  constructor(
    private readonly t: Trainer,
    private readonly n: number,
  ) {
    this.sendScratch = t.ctx.tensor([packedWords(n)], 'halfWire.send');
    this.recvScratch = t.ctx.tensor([packedWords(n)], 'halfWire.recv');
  }

  /** src (N) packed and read back; the copy is queued before this returns (as ctx.readRaw). */
  read(src: GpuTensor, format: HalfFormat): Promise<Uint8Array> {
    const d = this.cached(this.packs, src, format, () => packHalf(this.t.ctx, src, this.sendScratch, format));
    this.t.ctx.run([d]);
    return this.t.ctx.readRaw(this.sendScratch).then((raw) => new Uint8Array(raw));
  }

  /** Received packed bytes → dst (N) as f32, queued on the GPU. */
  write(dst: GpuTensor, bytes: Uint8Array, format: HalfFormat): void {
    if (bytes.byteLength !== halfWireBytes(this.n))
      throw new Error(`half wire: ${bytes.byteLength} bytes for ${this.n} values, need ${halfWireBytes(this.n)}`);
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    this.t.ctx.write(this.recvScratch, new Uint32Array(aligned.buffer, aligned.byteOffset, bytes.byteLength / 4));
    const d = this.cached(this.unpacks, dst, format, () => unpackHalf(this.t.ctx, this.recvScratch, dst, format));
    this.t.ctx.run([d]);
  }

  private cached(map: Map<string, Dispatch>, x: GpuTensor, format: HalfFormat, make: () => Dispatch): Dispatch {
    if (x.length !== this.n) throw new Error(`half wire: a tensor of ${x.length} values, the wire carries ${this.n}`);
    let id = this.ids.get(x.buffer);
    if (id === undefined) this.ids.set(x.buffer, (id = this.ids.size));
    const key = `${id}:${x.offset}:${format}`;
    let d = map.get(key);
    if (!d) map.set(key, (d = make()));
    return d;
  }
}

const wires = new WeakMap<Trainer, HalfWireGpu>();

/** The trainer's packer for (rows, cols) pipeline tensors (rows: sequence-parallel rows), made on first use. */
export function halfWireOf(t: Trainer): HalfWireGpu {
  let w = wires.get(t);
  if (!w) wires.set(t, (w = new HalfWireGpu(t, t.model.rows * t.model.spec.C)));
  return w;
}
