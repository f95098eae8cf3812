// When each parameter fragment syncs, as pure functions of the step count. The flat parameter
// vector is cut into `fragments` contiguous ranges; fragment f syncs after inner steps
// ⌊(f+1)·H/F⌋, then every H steps (Streaming DiLoCo staggers them so that no step sends the
// whole model). With F = 1: after steps H, 2H, 3H, …  A sync that overlaps `overlapSteps`
// inner steps completes that many steps after it starts. After the last step every fragment
// still pending or trained since its last sync is synced at once, so all replicas end equal.

export interface FragmentRange {
  start: number;
  end: number;
}

/** `length` elements in `fragments` contiguous ranges, boundaries on multiples of `align`. */
export function fragmentRanges(length: number, fragments: number, align = 1): FragmentRange[] {
  if (!Number.isInteger(fragments) || fragments < 1)
    throw new Error(`fragmentRanges: fragments must be a positive integer, got ${fragments}`);
  const out: FragmentRange[] = [];
  let start = 0;
  for (let f = 0; f < fragments; f++) {
    const end =
      f === fragments - 1 ? length : Math.min(length, Math.round(((f + 1) * length) / fragments / align) * align);
    out.push({ start, end: Math.max(start, end) });
    start = Math.max(start, end);
  }
  return out;
}

/** The step count after which fragment f first syncs (then every H steps). */
export function firstSync(f: number, innerSteps: number, fragments: number): number {
  return Math.floor(((f + 1) * innerSteps) / fragments);
}

/** Fragments whose sync starts right after inner step number `done` (1-based). */
export function fragmentsStartingAt(done: number, innerSteps: number, fragments: number): number[] {
  const out: number[] = [];
  for (let f = 0; f < fragments; f++) {
    const first = firstSync(f, innerSteps, fragments);
    if (done >= first && (done - first) % innerSteps === 0) out.push(f);
  }
  return out;
}

/** Sync start steps of every fragment up to `totalSteps` (for plans and tests). */
export function syncPlan(
  innerSteps: number,
  fragments: number,
  totalSteps: number,
): Array<{ step: number; fragment: number }> {
  const out: Array<{ step: number; fragment: number }> = [];
  for (let s = 1; s <= totalSteps; s++)
    for (const f of fragmentsStartingAt(s, innerSteps, fragments)) out.push({ step: s, fragment: f });
  return out;
}
