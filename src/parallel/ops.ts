// Pipeline schedule ops: the data an executor runs in order, one list per stage.
// `chunk` is the stage's local model chunk (0..v-1) under the interleaved schedule; with v = 1
// it is omitted. Model chunk k of stage s is global chunk g = k·P + s (Megatron's layout), so a
// microbatch's forward runs through g = 0, 1, …, P·v − 1 and its backward in reverse.

export type ComputeOp = { kind: 'forward' | 'backward'; microbatch: number; chunk?: number };

/** A point-to-point transfer; `chunk` is the local chunk on this stage that produced (send) or
 *  will consume (recv) the tensor. Channels are FIFO per (sender, receiver) pair. */
export type CommOp = {
  kind: 'send' | 'recv';
  what: 'activation' | 'grad';
  peerStage: number;
  microbatch: number;
  chunk?: number;
};

export type ScheduleOp = ComputeOp | CommOp;

export function isCompute(op: ScheduleOp): op is ComputeOp {
  return op.kind === 'forward' || op.kind === 'backward';
}

/** "F3", "B0", or with chunks "F3.1" (microbatch 3, chunk 1). */
export function computeLabel(op: ComputeOp): string {
  const base = `${op.kind === 'forward' ? 'F' : 'B'}${op.microbatch}`;
  return op.chunk === undefined ? base : `${base}.${op.chunk}`;
}

/** One line per op, e.g. "F3", "send activation 3 -> stage 2", "recv grad 1 <- stage 2". */
export function opLabel(op: ScheduleOp): string {
  if (isCompute(op)) return computeLabel(op);
  const chunk = op.chunk === undefined ? '' : `.${op.chunk}`;
  const arrow = op.kind === 'send' ? '->' : '<-';
  return `${op.kind} ${op.what} ${op.microbatch}${chunk} ${arrow} stage ${op.peerStage}`;
}

/** Where the tensors of a global chunk come from and go to. */
export interface ChunkLayout {
  pp: number;
  virtualChunks: number;
}

export function globalChunk(l: ChunkLayout, stage: number, chunk: number): number {
  return chunk * l.pp + stage;
}

export function chunkAt(l: ChunkLayout, global: number): { stage: number; chunk: number } {
  return { stage: global % l.pp, chunk: Math.floor(global / l.pp) };
}
