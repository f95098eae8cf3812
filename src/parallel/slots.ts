// Which activation buffer set each microbatch uses on one stage, as data. Without interleaving,
// microbatch i uses set i mod K (K = plan's bufferSlots: the microbatches enter and leave in
// order). Under interleaved 1F1B the sets are shared by the model chunks: a (microbatch, chunk)
// takes the lowest free set at its first op on the stage (its activation received, or its
// forward) and gives it back after its last (its backward, or the send of its input gradient),
// so the stage holds about as many sets as it has microbatch-chunks in flight, not v times that.
import type { ScheduleOp } from './ops';

export interface SlotPlan {
  /** buffer sets the stage allocates (per model chunk's passes: each chunk records its own on every set) */
  count: number;
  slotOf(op: { microbatch: number; chunk?: number }): number;
}

export function slotPlan(ops: readonly ScheduleOp[], virtualChunks: number, bufferSlots: number): SlotPlan {
  if (virtualChunks === 1) {
    const K = Math.max(1, bufferSlots);
    return { count: K, slotOf: (op) => op.microbatch % K };
  }
  const key = (op: { microbatch: number; chunk?: number }) => `${op.microbatch}.${op.chunk ?? 0}`;
  const lastUse = new Map<string, number>();
  ops.forEach((op, i) => lastUse.set(key(op), i));
  const slots = new Map<string, number>();
  const free: number[] = [];
  let count = 0;
  ops.forEach((op, i) => {
    const k = key(op);
    if (!slots.has(k)) {
      free.sort((a, b) => a - b);
      slots.set(k, free.length > 0 ? free.shift()! : count++);
    }
    if (lastUse.get(k) === i) free.push(slots.get(k)!);
  });
  return {
    count: Math.max(1, count),
    slotOf: (op) => {
      const s = slots.get(key(op));
      if (s === undefined) throw new Error(`no activation slot for microbatch ${op.microbatch} chunk ${op.chunk ?? 0}`);
      return s;
    },
  };
}
