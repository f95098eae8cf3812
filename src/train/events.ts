// Progress events of a training run, streamed from the worker to the page (and to the CLI).
import type { OuterRoundReport } from './local-sgd/local-sgd';
import type { AdapterSummary } from '../gpu/context';
import type { RestoreKind } from '../protocol';

/** GPU bytes a rank allocated, by purpose (measured from the buffers created). */
export interface RankMemory {
  /** parameters: the flat buffer, or with ZeRO-3 the rank's shard + the window layers are gathered into */
  paramBytes: number;
  /** gradients: the flat buffer, or with ZeRO-2/3 the rank's shard + the window the backward writes */
  gradBytes: number;
  /** Adam's m and v (a 1/DP shard with ZeRO ≥ 1) */
  optimizerBytes: number;
  /** activations of every slot (+ recompute scratch) */
  activationBytes: number;
  /** one step of undo (a copy of parameters and moments) kept by ranks of an elastic run */
  undoBytes?: number;
}

/** One op of a rank's step on its timeline (ms since the step began). */
export interface OpSpan {
  kind: 'forward' | 'backward' | 'send' | 'recv' | 'allreduce' | 'optimizer';
  microbatch?: number;
  startMs: number;
  endMs: number;
}

/** Where one step's time went on a rank (ms). */
export interface StepBreakdown {
  /** forward and backward passes (GPU work, tensor-parallel talk included) */
  computeMs: number;
  /** sending and waiting for activations/gradients between pipeline stages */
  p2pMs: number;
  /** gradient collectives: tied embeddings, data parallel, norm, ZeRO gather */
  allReduceMs: number;
  optimizerMs: number;
  totalMs: number;
  /** the schedule's ops as they ran (forward/backward/send/recv), then the gradient sync */
  spans?: OpSpan[];
}

export type TrainEvent =
  | {
      kind: 'start';
      adapter?: AdapterSummary;
      params: number;
      tokensPerStep: number;
      trainIters: number;
      corpusTokens: number;
      vocab: number;
      memory?: RankMemory;
      /** what precision this rank runs (precision.ts rankPrecision): 16-bit storage, arithmetic */
      precision?: string;
    }
  | {
      kind: 'step';
      step: number;
      loss: number;
      lr: number;
      gradNorm: number;
      ms: number;
      tokensPerSec: number;
      breakdown?: StepBreakdown;
      /** mixed precision: the loss scale the step used */
      lossScale?: number;
      /** mixed precision: its gradients overflowed (Inf/NaN on some rank), so no rank stepped */
      skipped?: boolean;
    }
  | { kind: 'eval'; step: number; split: 'valid' | 'test'; loss: number }
  | { kind: 'done'; step: number; trainLoss: number; validLoss: number; elapsedMs: number }
  | {
      kind: 'checkpoint';
      action: 'saved' | 'loaded';
      step: number;
      iteration: number;
      file?: string;
      bytes?: number;
      sha256?: string;
      files?: number;
      complete?: boolean;
    }
  | { kind: 'error'; message: string }
  /** a short greedy sample from the model at an evaluation: the prompt and what followed */
  | { kind: 'sample'; step: number; prompt: string; text: string }
  /** a generation of an elastic run began from `step`, the state restored from `from` */
  | { kind: 'restored'; generation: number; step: number; from: RestoreKind; ms: number }
  /** one local-SGD sync of this rank's part of a parameter fragment */
  | ({ kind: 'round' } & OuterRoundReport);
