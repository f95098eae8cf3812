// ZeRO-3's fetch: a rank holds only its 1/DP shard of the flat parameters (optRange) at rest;
// before a layer (or the stage's embedding, final norm and head: the window's rest) runs, its
// runs of the flat vector are all-gathered over the data-parallel group into the parameter
// window (model/param-window.ts), where the recorded passes read them. The shard is read back
// once per pass (it changes only in the optimizer step, between passes). With mixed precision
// (`wire`) the shard is packed to 16 bits on the GPU before its readback and the gathers carry
// 16-bit values, so every replica's window holds the same weights, its own part included: the f32
// master rounded, as a 16-bit working copy is.
import type { GpuContext } from '../gpu/context';
import type { GpuTensor } from '../gpu/tensor';
import type { Range } from '../gpu/kernels/optimizer';
import type { Gpt } from '../model/gpt';
import { readHalf } from '../model/half-readback';
import { runsOf } from '../model/param-window';
import type { HalfFormat } from './precision';

/** All-gather of a slice of the flat vector (CollectiveOptions.slice): `piece` holds this rank's
 *  ring chunk of [offset, offset + piece.length); resolves with all of it. With `wire` the others'
 *  chunks travel (and arrive) as that 16-bit format (CollectiveOptions.wire). */
export type SliceGather = (
  piece: Float32Array,
  slice: { offset: number; total: number },
  wire?: HalfFormat,
) => Promise<Float32Array>;

export class ParamGather {
  constructor(
    private readonly ctx: GpuContext,
    private readonly model: Gpt,
    /** (optRange length) this rank's parameters at rest */
    private readonly shard: GpuTensor,
    private readonly optRange: Range,
    private readonly gather: SliceGather,
    /** mixed precision: the gathers' 16-bit format (null: f32) */
    private readonly wire: HalfFormat | null = null,
  ) {}

  /** The fetch hook for one pass: each call gathers a unit's runs into the window. */
  forPass(): (unit: number) => Promise<void> {
    let mine: Promise<Float32Array> | null = null;
    return async (unit) => {
      // mixed precision: packed on the GPU (half the readback), so the values are the 16-bit ones
      mine ??= this.wire
        ? readHalf(this.ctx, this, [this.shard], this.wire).then((h) => h[0])
        : this.ctx.read(this.shard);
      const shard = await mine;
      const { start: o0, end: o1 } = this.optRange;
      const total = this.model.flatLength;
      // every run's collective is issued at once, in flat order on every rank
      const runs = runsOf(this.model.window, unit);
      const gathered = await Promise.all(
        runs.map((r) => {
          const piece = new Float32Array(r.end - r.start);
          const from = Math.max(r.start, o0),
            to = Math.min(r.end, o1);
          if (to > from) piece.set(shard.subarray(from - o0, to - o0), from - r.start);
          return this.gather(piece, { offset: r.start, total }, this.wire ?? undefined);
        }),
      );
      runs.forEach((r, i) => {
        this.ctx.writeBuffer(this.model.params, r.at * 4, gathered[i]);
      });
    };
  }
}
