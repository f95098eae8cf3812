// The ring's chunk plan, as data. A buffer of `length` elements is cut into `size`
// contiguous chunks (the first `length % size` one element longer); position p owns chunk p.
//
// Reduce-scatter, step s = 0 … size-2: send chunk (p-s-1), receive chunk (p-s-2) and
// add the local values into it. Chunk c therefore starts at position c+1 and is summed
// in ring order c+1, c+2, …, c (mod size), finishing at its owner c.
// All-gather, step s: send chunk (p-s), receive chunk (p-s-1) and overwrite.
// Every position gets the owner's bits, so all ranks hold identical results.

export interface Chunk {
  readonly start: number;
  readonly end: number;
}

export interface RingStep {
  /** chunk index sent to `next` */
  readonly send: number;
  /** chunk index received from `prev` */
  readonly recv: number;
}

export interface RingPlan {
  readonly size: number;
  /** this rank's position in the ring */
  readonly rank: number;
  readonly length: number;
  readonly next: number;
  readonly prev: number;
  /** chunk c covers elements [start, end); position c owns it */
  readonly chunks: readonly Chunk[];
  readonly reduceScatter: readonly RingStep[];
  readonly allGather: readonly RingStep[];
}

const mod = (a: number, n: number): number => ((a % n) + n) % n;

export function chunkBounds(size: number, length: number): Chunk[] {
  const base = Math.floor(length / size);
  const extra = length % size;
  const chunks: Chunk[] = [];
  let start = 0;
  for (let c = 0; c < size; c++) {
    const end = start + base + (c < extra ? 1 : 0);
    chunks.push({ start, end });
    start = end;
  }
  return chunks;
}

export function ringPlan(size: number, rank: number, length: number): RingPlan {
  if (!Number.isInteger(size) || size < 1) throw new Error(`ringPlan: size must be a positive integer, got ${size}`);
  if (!Number.isInteger(rank) || rank < 0 || rank >= size)
    throw new Error(`ringPlan: rank ${rank} is outside 0…${size - 1}`);
  if (!Number.isInteger(length) || length < 0)
    throw new Error(`ringPlan: length must be a non-negative integer, got ${length}`);
  const reduceScatter: RingStep[] = [];
  const allGather: RingStep[] = [];
  for (let s = 0; s < size - 1; s++) {
    reduceScatter.push({ send: mod(rank - s - 1, size), recv: mod(rank - s - 2, size) });
    allGather.push({ send: mod(rank - s, size), recv: mod(rank - s - 1, size) });
  }
  return {
    size,
    rank,
    length,
    next: mod(rank + 1, size),
    prev: mod(rank - 1, size),
    chunks: chunkBounds(size, length),
    reduceScatter,
    allGather,
  };
}

/** The positions whose values are summed into chunk `c`, in summation order. */
export function reductionOrder(size: number, c: number): number[] {
  return Array.from({ length: size }, (_, k) => mod(c + 1 + k, size));
}
