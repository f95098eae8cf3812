// A model pass as data: GPU dispatches interleaved with the few points where tensor-parallel
// ranks must talk (Megatron's g operator — sum a partial output over the TP group — or, with
// sequence parallelism, its all-gather / reduce-scatter pair along the sequence, and the
// vocab-parallel loss). Recorded once like the dispatches; run by runProgram every step.
// With tp = 1 a pass has no talk steps and runs as one stream of dispatches.
import type { Dispatch } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import type { HalfFormat } from '../train/precision';

export type ProgramStep =
  | { kind: 'gpu'; dispatches: Dispatch[] }
  /** zero a tensor (outside any compute pass) */
  | { kind: 'clear'; tensor: GpuTensor }
  /** in place: the elementwise sum of this tensor over the TP group */
  | { kind: 'tpSum'; tensor: GpuTensor; what: string }
  /** sequence parallelism (Megatron's all-gather along the sequence): every TP rank's `local`
   *  (B, T/tp, cols) into `full` (B, T, cols), for each pair, in one collective */
  | { kind: 'seqGather'; pairs: readonly SeqPair[]; B: number; T: number; what: string }
  /** sequence parallelism (reduce-scatter along the sequence): `full` (B, T, cols) summed over
   *  the TP group, this rank's positions of the sum into `local` (B, T/tp, cols) */
  | { kind: 'seqReduceScatter'; full: GpuTensor; local: GpuTensor; B: number; T: number; what: string }
  /** lse (N): this rank's log-sum-exp over its vocabulary shard, replaced by the global one;
   *  targetLogit (N): the target's logit where this rank owns it, else 0; targets: i32 (N)
   *  local targets (−1 ignored); losses (N): written with lse − target logit */
  | {
      kind: 'vocabLoss';
      lse: GpuTensor;
      targetLogit: GpuTensor;
      targets: GpuTensor;
      losses: GpuTensor;
      /** the targets as last written to `targets`, kept on the host (no readback) */
      targetsOnHost?: HostCopy<Int32Array>;
    }
  /** the gradients of these parameters get no further contribution in this pass (a data-parallel
   *  bucket holding only finished gradients can be reduced from here on, during the rest of it) */
  | { kind: 'mark'; finished: readonly string[] }
  /** ZeRO-3: the parameters of this window unit (param-window.ts: −1 the rest, else a layer)
   *  must be in the parameter window before what follows runs */
  | { kind: 'fetch'; unit: number };

export interface SeqPair {
  local: GpuTensor;
  full: GpuTensor;
}

/** A host-side copy of what a GPU tensor holds, set by whoever writes the tensor. */
export interface HostCopy<T> {
  current: T | null;
}

export type Program = readonly ProgramStep[];

/** The TP group's collectives as a pass needs them (`what` names the tensor in errors). */
export interface TpCollectives {
  readonly size: number;
  /** mixed precision: the sequence-parallel gather and reduce-scatter carry this 16-bit format,
   *  and runProgram packs their tensors on the GPU before reading them back (absent: f32) */
  readonly wire?: HalfFormat;
  sum(a: Float32Array, what: string): Promise<Float32Array>;
  /** every rank's `a`, concatenated in TP rank order; `half`: in the `wire` format (this rank's
   *  own part stays as given: send values that are already 16-bit) */
  gather(a: Float32Array, what: string, half?: boolean): Promise<Float32Array>;
  /** a new sequence of calls begins (a step, an evaluation), named alike on every TP rank:
   *  collectives that number their messages start again from it */
  restart?(key: string): void;
  /** the sum over the group of `a`, cut in `size` equal chunks in rank order: this rank's chunk
   *  (with `wire`, the partial sums travel in 16 bits and are added in f32) */
  reduceScatter(a: Float32Array, what: string): Promise<Float32Array>;
  /** set when every rank of the group shares this rank's GPU device in this process: the TP
   *  steps then run there (gpu/device-collectives.ts), with no readback */
  readonly device?: TpDeviceCollectives;
}

/** The TP steps on the device: each resolves once the collective is queued after every
 *  member's work (so work submitted afterwards sees its result). */
export interface TpDeviceCollectives {
  /** in place: `t` becomes the sum over the group */
  sum(t: GpuTensor): Promise<void>;
  seqGather(pairs: readonly SeqPair[], B: number, T: number): Promise<void>;
  seqReduceScatter(full: GpuTensor, local: GpuTensor, B: number, T: number): Promise<void>;
}

export class ProgramBuilder {
  readonly steps: ProgramStep[] = [];

  push(...dispatches: Dispatch[]): this {
    if (dispatches.length === 0) return this;
    const last = this.steps[this.steps.length - 1];
    if (last?.kind === 'gpu') last.dispatches.push(...dispatches);
    else this.steps.push({ kind: 'gpu', dispatches: [...dispatches] });
    return this;
  }

  clear(tensor: GpuTensor): this {
    this.steps.push({ kind: 'clear', tensor });
    return this;
  }

  tpSum(tensor: GpuTensor, what: string): this {
    this.steps.push({ kind: 'tpSum', tensor, what });
    return this;
  }

  seqGather(pairs: readonly SeqPair[], B: number, T: number, what: string): this {
    this.steps.push({ kind: 'seqGather', pairs, B, T, what });
    return this;
  }

  seqReduceScatter(full: GpuTensor, local: GpuTensor, B: number, T: number, what: string): this {
    this.steps.push({ kind: 'seqReduceScatter', full, local, B, T, what });
    return this;
  }

  vocabLoss(step: Omit<Extract<ProgramStep, { kind: 'vocabLoss' }>, 'kind'>): this {
    this.steps.push({ kind: 'vocabLoss', ...step });
    return this;
  }

  mark(finished: readonly string[]): this {
    this.steps.push({ kind: 'mark', finished });
    return this;
  }

  fetch(unit: number): this {
    this.steps.push({ kind: 'fetch', unit });
    return this;
  }

  append(program: Program): this {
    for (const s of program) {
      if (s.kind === 'gpu') this.push(...s.dispatches);
      else this.steps.push(s);
    }
    return this;
  }
}

/** The parameter names of each mark step, in order. */
export function marksOf(program: Program): (readonly string[])[] {
  return program.flatMap((s) => (s.kind === 'mark' ? [s.finished] : []));
}

/** How many TP talk points a pass has (0 for a single rank). */
export function talkPoints(program: Program): number {
  const talk = new Set(['tpSum', 'vocabLoss', 'seqGather', 'seqReduceScatter']);
  return program.filter((s) => talk.has(s.kind)).length;
}
