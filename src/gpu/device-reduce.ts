// The GPU side of device-local collectives (device-collectives.ts): the members' tensors are
// copied into one scratch buffer, slot r holding rank r's values, `sum_slots` adds the slots
// in rank order into slot 0 (so every member gets the same bits, whatever order they posted
// in), and slot 0 is copied out to where each member wants it. Copies take any 4-byte offset,
// so views inside the flat gradient buffer need no alignment. Everything goes into the one
// encoder the caller submits: the queue orders it after every member's producing work.
import sumSlotsSrc from '../../shaders/sum_slots.wgsl?raw';
import { type GpuContext, uniforms } from './context';
import { type Dispatch, encodeDispatches, grid1d } from './dispatch';
import { linearWorkgroup } from './kernels/workgroup';

/** Elements [offset, offset + n) of a buffer, as a byte offset. */
export interface Region {
  readonly buffer: GPUBuffer;
  /** bytes; a multiple of 4 */
  readonly offset: number;
}

/** Elements per reduction piece: long vectors are reduced in pieces that fit one binding. */
const PIECE_CAP = 1 << 22;

export class DeviceReducer {
  private scratch: GPUBuffer | null = null;
  private scratchBytes = 0;
  /** `sum_slots` dispatches over the current scratch, by `n|slots|divisor` */
  private readonly sums = new Map<string, Dispatch>();

  constructor(
    readonly ctx: GpuContext,
    private readonly pieceCap = PIECE_CAP,
  ) {}

  /** The most elements one piece of a reduction over `slots` members takes. */
  pieceElems(slots: number): number {
    const bindable = Math.min(this.ctx.limits.maxStorageBufferBindingSize, this.ctx.limits.maxBufferSize);
    return Math.max(1, Math.min(this.pieceCap, Math.floor(bindable / (4 * slots))));
  }

  /**
   * Encodes: slot 0 of the scratch ← (Σ_r ins[r][0, n)) ÷ divisor, r in order. n ≤ pieceElems(ins.length).
   * Returns slot 0 as a region (valid until the next encodeSum).
   */
  encodeSum(enc: GPUCommandEncoder, ins: readonly Region[], n: number, divisor: number): Region {
    const slots = ins.length;
    if (n > this.pieceElems(slots)) throw new Error(`DeviceReducer: ${n} elements exceed one piece`);
    const scratch = this.ensure(slots * n * 4);
    ins.forEach((r, i) => {
      enc.copyBufferToBuffer(r.buffer, r.offset, scratch, i * n * 4, n * 4);
    });
    if (slots > 1 || divisor !== 1) {
      const pass = enc.beginComputePass();
      encodeDispatches(pass, [this.sumDispatch(scratch, n, slots, divisor)]);
      pass.end();
    }
    return { buffer: scratch, offset: 0 };
  }

  private ensure(bytes: number): GPUBuffer {
    if (this.scratch && this.scratchBytes >= bytes) return this.scratch;
    // grows to the largest reduction seen (destroying the old one waits for work queued on it)
    this.scratch?.destroy();
    this.scratchBytes = Math.max(bytes, Math.min(2 * this.scratchBytes, this.ctx.limits.maxBufferSize));
    this.scratch = this.ctx.createBuffer(this.scratchBytes, 'device-collectives.scratch');
    this.sums.clear();
    return this.scratch;
  }

  private sumDispatch(scratch: GPUBuffer, n: number, slots: number, divisor: number): Dispatch {
    const key = `${n}|${slots}|${divisor}`;
    let d = this.sums.get(key);
    if (!d) {
      const WG = linearWorkgroup(this.ctx);
      const all = { buffer: scratch, offset: 0, length: slots * n, shape: [slots, n] };
      const params = uniforms([
        ['u32', n],
        ['u32', slots],
        ['f32', divisor],
      ]);
      const pipeline = this.ctx.pipeline('sum_slots', sumSlotsSrc, { WG });
      d = this.ctx.bind('sum_slots', pipeline, [all, params], grid1d(Math.ceil(n / WG)));
      this.sums.set(key, d);
    }
    return d;
  }
}
