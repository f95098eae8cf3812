// Mixed precision's 16-bit working copy of the weights (parallel/half-storage.ts): the flat
// parameter vector packed two values to a u32 (fp16 or bf16), cast from the f32 master after
// each optimizer update. The passes never read it directly: before a transformer layer runs
// (and at the start of a pass, for the stage's embedding, final norm and head) its runs are
// unpacked into the f32 parameter window (param-window.ts), where the kernels read them as
// ZeRO-3's gathered layers. So the GPU holds the packed copy (2 bytes a parameter) and the
// window (rest + one layer, f32) beside the master; each fetch is a few elementwise dispatches.
import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import { packedWords, packHalf, unpackHalf } from '../gpu/kernels/half-pack';
import type { GpuTensor } from '../gpu/tensor';
import type { HalfFormat } from '../train/precision';
import { type ParamWindow, runsOf, type WindowUnit } from './param-window';

export class HalfWeights {
  /** u32 (flatLength / 2): the flat vector's 16-bit values, element 2i low in word i */
  readonly packed: GpuTensor;
  private readonly fetches = new Map<WindowUnit, Dispatch[]>();

  constructor(
    private readonly ctx: GpuContext,
    readonly format: HalfFormat,
    private readonly window: ParamWindow,
    /** the f32 window the passes read: window.length elements */
    private readonly windowBuffer: GPUBuffer,
    flatLength: number,
  ) {
    if (flatLength % 2 !== 0) throw new Error(`half weights: the flat length ${flatLength} must be even`);
    this.packed = ctx.tensor([packedWords(flatLength)], 'params.half');
  }

  /** The dispatches that unpack one unit (param-window.ts: REST or a layer) into the window. */
  fetch(unit: WindowUnit): Dispatch[] {
    let d = this.fetches.get(unit);
    if (!d) {
      d = runsOf(this.window, unit).map((r) => {
        const n = r.end - r.start;
        const dst: GpuTensor = { buffer: this.windowBuffer, offset: r.at * 4, length: n, shape: [n], name: 'window' };
        return unpackHalf(this.ctx, this.packed, dst, this.format, { at: r.start / 2 });
      });
      this.fetches.set(unit, d);
    }
    return d;
  }

  /** The cast of the f32 master (the flat vector, flatLength) into the packed copy. */
  castFrom(master: GpuTensor): Dispatch {
    return packHalf(this.ctx, master, this.packed, this.format);
  }
}
