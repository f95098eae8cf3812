// One step of undo for a rank's training state. Before each step, the parameters (the whole
// padded flat buffer, or with ZeRO-3 the rank's shard) and Adam's moments are copied on the
// GPU; a rank whose step was cut short, or that finished a step its peers did not, can go back
// to the state before it.
// Ranks of a run are never more than one optimizer step apart, so one step is enough for
// every rank to reach the step all of them can (see docs in elastic-rank.ts).
import type { GpuContext } from '../../gpu/context';
import type { Trainer, TrainerHostState } from '../trainer';

export class StepUndo {
  private readonly params: GPUBuffer;
  private readonly m: GPUBuffer;
  private readonly v: GPUBuffer;
  /** the step whose state the copies hold; null before the first save */
  savedStep: number | null = null;
  /** the step's host state (skipped steps, loss scaler) */
  private savedHost: TrainerHostState | null = null;

  constructor(
    private readonly ctx: GpuContext,
    private readonly t: Trainer,
  ) {
    this.params = ctx.createBuffer(t.heldParams.buffer.size, 'undo.params');
    this.m = ctx.createBuffer(t.m.buffer.size, 'undo.m');
    this.v = ctx.createBuffer(t.v.buffer.size, 'undo.v');
  }

  /** GPU bytes the copies take. */
  get bytes(): number {
    return this.params.size + this.m.size + this.v.size;
  }

  /** Copies the state as it is now (queued before the step's work). */
  save(): void {
    this.copy([this.t.heldParams.buffer, this.params], [this.t.m.buffer, this.m], [this.t.v.buffer, this.v]);
    this.savedStep = this.t.step;
    this.savedHost = this.t.hostState();
  }

  /** Puts the saved state back and the trainer's step with it. */
  restore(): void {
    if (this.savedStep === null) throw new Error('step undo: nothing saved yet');
    this.copy([this.params, this.t.heldParams.buffer], [this.m, this.t.m.buffer], [this.v, this.t.v.buffer]);
    this.t.loadHostState(this.savedHost!);
  }

  /** Steps this rank can be at without fetching anything: the current one once it is whole
   *  (its step finished), and the saved one. */
  reachable(): number[] {
    if (this.savedStep === null) return [this.t.step];
    return this.t.step === this.savedStep ? [this.savedStep] : [this.t.step, this.savedStep];
  }

  /** Brings the trainer to `step` (one of reachable()). */
  goTo(step: number): void {
    if (step === this.t.step && this.t.step !== this.savedStep) return; // finished and whole
    if (step !== this.savedStep)
      throw new Error(`step undo: cannot reach step ${step} (at ${this.t.step}, saved ${this.savedStep})`);
    this.restore();
  }

  private copy(...pairs: [GPUBuffer, GPUBuffer][]): void {
    const enc = this.ctx.device.createCommandEncoder();
    for (const [from, to] of pairs) enc.copyBufferToBuffer(from, 0, to, 0, from.size);
    this.ctx.device.queue.submit([enc.finish()]);
  }
}
