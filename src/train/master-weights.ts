// 16-bit weights' f32 master (parallel/half-storage.ts): the flat parameter vector AdamW updates,
// checkpoints save and every write goes to, and the cast of it into the model's packed 16-bit
// working copy (model/half-weights.ts), made before the next pass whenever the master changed.
import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import type { Gpt } from '../model/gpt';

export class MasterWeights {
  /** f32 (model.flatLength) */
  readonly buffer: GPUBuffer;
  private readonly cast: Dispatch;
  private stale = true;

  constructor(
    private readonly ctx: GpuContext,
    private readonly model: Gpt,
  ) {
    if (!model.halfWeights) throw new Error('master weights: the model reads f32 weights, there is nothing to cast');
    this.buffer = ctx.createBuffer(model.flatLength * 4, 'params.master');
    this.cast = model.halfWeights.castFrom(this.flat(true));
  }

  /** The master as a flat vector: layout.total elements, or flatLength with `padded`. */
  flat(padded = false): GpuTensor {
    const length = padded ? this.model.flatLength : this.model.layout.total;
    return { buffer: this.buffer, offset: 0, length, shape: [length], name: 'params.master' };
  }

  /** The master was written (an update, a load, a restore): cast it again before the next pass. */
  changed(): void {
    this.stale = true;
  }

  /** Before a pass: the working copy is the master's, rounded. */
  refresh(): void {
    if (!this.stale) return;
    this.ctx.run([this.cast]);
    this.stale = false;
  }
}
