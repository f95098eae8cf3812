// Mixed precision's 16-bit working copy of the weights (parallel/half-storage.ts): the flat
// parameter vector packed two values to a u32 (fp16 or bf16), cast from the f32 master after
// each optimizer update. Before a transformer layer runs (and at the start of a pass, for the
// stage's embedding, final norm and head) its runs are unpacked into the f32 parameter window
// (param-window.ts), where the kernels read them as ZeRO-3's gathered layers. So the GPU holds the
// packed copy (2 bytes a parameter) and the window (rest + one layer, f32) beside the master; each
// fetch is a few elementwise dispatches. With f16 arithmetic the layers' linear weights are read
// from the packed copy itself (matmul_f16.wgsl) and their part of the window is never written.
import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import { packedWords, packHalf, unpackHalf } from '../gpu/kernels/half-pack';
import type { GpuTensor } from '../gpu/tensor';
import type { HalfFormat } from '../train/precision';
import type { PackedHalf } from '../gpu/kernels/matmul-f16';
import { type ParamWindow, runsOf, type WindowRun, type WindowUnit } from './param-window';
import type { ParamLayout, ParamSlot } from './params';

/** The weights of a transformer layer's linear products (QKV, attention output, MLP up and down). */
const LAYER_LINEAR = /^layers\.\d+\.(attn\.(qkv|dense)|mlp\.(up|down))\.weight$/;

/** The layout's layer linear weights: what f16 arithmetic reads from the packed copy. Pure. */
export function layerLinearWeights(layout: ParamLayout): ParamSlot[] {
  return layout.slots.filter((s) => LAYER_LINEAR.test(s.name));
}

export class HalfWeights {
  /** u32 (flatLength / 2): the flat vector's 16-bit values, element 2i low in word i */
  readonly packed: GpuTensor;
  private readonly fetches = new Map<WindowUnit, Dispatch[]>();
  /** flat ranges fetch() never unpacks, sorted */
  private readonly skipped: readonly { start: number; end: number }[];

  constructor(
    private readonly ctx: GpuContext,
    readonly format: HalfFormat,
    private readonly window: ParamWindow,
    /** the f32 window the passes read: window.length elements */
    private readonly windowBuffer: GPUBuffer,
    flatLength: number,
    /** tensors never unpacked: the weights the products read packed (layerLinearWeights) */
    packedReads: readonly ParamSlot[] = [],
  ) {
    if (flatLength % 2 !== 0) throw new Error(`half weights: the flat length ${flatLength} must be even`);
    this.packed = ctx.tensor([packedWords(flatLength)], 'params.half');
    // tensors start at multiples of 64 (params.ts): an even end stays inside the padding
    this.skipped = packedReads
      .map((s) => ({ start: s.offset, end: s.offset + s.length + (s.length % 2) }))
      .sort((a, b) => a.start - b.start);
  }

  /** A tensor of the packed copy as matmul_f16 reads it. */
  view(slot: ParamSlot): PackedHalf {
    return { packed: this.packed, at: slot.offset, length: slot.length, shape: slot.shape, name: slot.name };
  }

  /** The dispatches that unpack one unit (param-window.ts: REST or a layer) into the window. */
  fetch(unit: WindowUnit): Dispatch[] {
    let d = this.fetches.get(unit);
    if (!d) {
      d = runsOf(this.window, unit)
        .flatMap((r) => this.unpacked(r))
        .map((r) => {
          const n = r.end - r.start;
          const dst: GpuTensor = { buffer: this.windowBuffer, offset: r.at * 4, length: n, shape: [n], name: 'window' };
          return unpackHalf(this.ctx, this.packed, dst, this.format, { at: r.start / 2 });
        });
      this.fetches.set(unit, d);
    }
    return d;
  }

  /** The pieces of a run outside the skipped ranges (window offsets kept). */
  private unpacked(r: WindowRun): WindowRun[] {
    const out: WindowRun[] = [];
    let from = r.start;
    for (const p of this.skipped) {
      if (p.end <= from || p.start >= r.end) continue;
      if (p.start > from) out.push({ ...r, start: from, end: p.start, at: r.at + (from - r.start) });
      from = Math.max(from, p.end);
    }
    if (from < r.end) out.push({ ...r, start: from, end: r.end, at: r.at + (from - r.start) });
    return out;
  }

  /** The cast of the f32 master (the flat vector, flatLength) into the packed copy. */
  castFrom(master: GpuTensor): Dispatch {
    return packHalf(this.ctx, master, this.packed, this.format);
  }
}
