// Progress events of a training run, streamed from the worker to the page (and to the CLI).
import type { AdapterSummary } from '../gpu/context';

export type TrainEvent =
  | { kind: 'start'; adapter?: AdapterSummary; params: number; tokensPerStep: number; trainIters: number; corpusTokens: number; vocab: number }
  | { kind: 'step'; step: number; loss: number; lr: number; gradNorm: number; ms: number; tokensPerSec: number }
  | { kind: 'eval'; step: number; split: 'valid' | 'test'; loss: number }
  | { kind: 'done'; step: number; trainLoss: number; validLoss: number; elapsedMs: number }
  | { kind: 'error'; message: string };
