// fp16 loss scaling as DeepSpeed does it (deepspeed/runtime/fp16/loss_scaler.py, read to learn):
// the loss is multiplied by `scale` before the backward so that small gradients survive 16-bit
// storage; a step whose gradients hold an Inf or NaN is skipped and the scaler told so.
//
// Dynamic scaling, per update(overflow), in DeepSpeed's order:
//   overflow:    if hysteresis (the configured value) is 1 or the countdown stands at 1, the scale
//                halves, never below min_loss_scale — unless it already is the minimum, which
//                stops the run (LossScaleAtMinimumError); otherwise the countdown drops by one.
//                Either way the iteration is remembered as the last overflow.
//   no overflow: with consecutive_hysteresis the countdown is refilled at once; the scale
//                doubles when the iterations since the last overflow, less one, are a positive
//                multiple of loss_scale_window (and, without consecutive_hysteresis, that is
//                also when the countdown is refilled).
//   The iteration counter then advances. It starts at 0 with the "last overflow" at -1, so the
//   first doubling comes on the (window + 1)-th clean update, and after an overflow also on the
//   (window + 1)-th clean one.
// Note: DeepSpeed's fused FP16_Optimizer (ZeRO off, FusedAdam) keeps its own copy of this rule
// without hysteresis; ZeRO's and the unfused optimizer use this class. tabtron follows the class.

/** NeoX / DeepSpeed `fp16` keys that drive dynamic scaling. */
export interface DynamicLossScalerOptions {
  /** the first scale is 2^initialScalePower (DeepSpeed default 16) */
  initialScalePower: number;
  /** clean iterations before the scale doubles (default 1000) */
  lossScaleWindow: number;
  /** overflows tolerated before the scale halves (DeepSpeed's delayed_shift; default 2) */
  hysteresis: number;
  /** the scale never goes below this (default 1) */
  minLossScale: number;
  /** refill the hysteresis countdown after every clean iteration (default false) */
  consecutiveHysteresis: boolean;
  /** an overflow at the minimum scale stops the run (DeepSpeed always passes true) */
  raiseErrorAtMinScale?: boolean;
}

/** What a checkpoint keeps of a scaler, to resume with the same scale and countdowns. */
export interface LossScalerState {
  scale: number;
  curIter: number;
  lastOverflowIter: number;
  curHysteresis: number;
}

export interface LossScaler {
  /** the scale the next iteration's loss is multiplied by */
  readonly scale: number;
  readonly dynamic: boolean;
  /** after an iteration: whether any gradient was Inf or NaN (the step was then skipped) */
  update(overflow: boolean): void;
  state(): LossScalerState;
  load(s: LossScalerState): void;
}

/** An overflow at min_loss_scale: DeepSpeed ends the run here, and so does tabtron. */
export class LossScaleAtMinimumError extends Error {
  constructor(readonly minLossScale: number) {
    super(
      `fp16 gradients overflowed (Inf/NaN) while the loss scale already stood at its minimum ` +
        `(fp16.min_loss_scale = ${minLossScale}); it cannot go lower, so the run stops`,
    );
    this.name = 'LossScaleAtMinimumError';
  }
}

const SCALE_FACTOR = 2;

export class DynamicLossScaler implements LossScaler {
  readonly dynamic = true;
  scale: number;
  curIter = 0;
  lastOverflowIter = -1;
  curHysteresis: number;
  private readonly raiseAtMin: boolean;

  constructor(readonly opts: DynamicLossScalerOptions) {
    const { initialScalePower, lossScaleWindow, hysteresis, minLossScale } = opts;
    if (!Number.isInteger(initialScalePower)) throw new Error(`initialScalePower must be an integer`);
    if (!(Number.isInteger(lossScaleWindow) && lossScaleWindow > 0))
      throw new Error(`lossScaleWindow must be a positive integer, got ${lossScaleWindow}`);
    if (!Number.isInteger(hysteresis)) throw new Error(`hysteresis must be an integer, got ${hysteresis}`);
    if (!(minLossScale > 0)) throw new Error(`minLossScale must be > 0, got ${minLossScale}`);
    this.scale = 2 ** initialScalePower;
    this.curHysteresis = hysteresis;
    this.raiseAtMin = opts.raiseErrorAtMinScale ?? true;
  }

  update(overflow: boolean): void {
    const { hysteresis, minLossScale, lossScaleWindow, consecutiveHysteresis } = this.opts;
    if (overflow) {
      if (hysteresis === 1 || this.curHysteresis === 1) {
        if (this.scale === minLossScale && this.raiseAtMin) throw new LossScaleAtMinimumError(minLossScale);
        this.scale = Math.max(this.scale / SCALE_FACTOR, minLossScale);
      } else this.curHysteresis -= 1;
      this.lastOverflowIter = this.curIter;
    } else {
      if (consecutiveHysteresis) this.curHysteresis = hysteresis;
      const stable = this.curIter - this.lastOverflowIter - 1;
      if (stable > 0 && stable % lossScaleWindow === 0) {
        if (!consecutiveHysteresis) this.curHysteresis = hysteresis;
        this.scale *= SCALE_FACTOR;
      }
    }
    this.curIter += 1;
  }

  state(): LossScalerState {
    return {
      scale: this.scale,
      curIter: this.curIter,
      lastOverflowIter: this.lastOverflowIter,
      curHysteresis: this.curHysteresis,
    };
  }

  load(s: LossScalerState): void {
    this.scale = s.scale;
    this.curIter = s.curIter;
    this.lastOverflowIter = s.lastOverflowIter;
    this.curHysteresis = s.curHysteresis;
  }
}

/** fp16 with loss_scale > 0 (and bf16 with 1): a fixed scale; overflowing steps are still skipped. */
export class StaticLossScaler implements LossScaler {
  readonly dynamic = false;
  curIter = 0;

  constructor(readonly scale: number) {
    if (!(scale > 0 && Number.isFinite(scale))) throw new Error(`a static loss scale must be > 0, got ${scale}`);
  }

  update(_overflow?: boolean): void {
    this.curIter += 1;
  }

  state(): LossScalerState {
    return { scale: this.scale, curIter: this.curIter, lastOverflowIter: -1, curHysteresis: 0 };
  }

  /** the configured scale wins over a checkpoint's (a static scale is configuration, not state) */
  load(s: LossScalerState): void {
    this.curIter = s.curIter;
  }
}
