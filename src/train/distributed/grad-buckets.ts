// Data-parallel gradient buckets (Megatron's overlapped gradient reduction), as data: the flat
// gradient vector cut into contiguous ranges, each with the point of the step's last backward
// after which none of its gradients changes. A bucket is reduced over the replicas from that
// point on, while the GPU works through the rest of the backward. Parameters are laid out by
// group (params.ts), so a layer's weights are one contiguous run and its norms and biases lie
// elsewhere: runs that finish at the same mark are merged until a bucket holds `target` elements.
import type { Range } from '../../gpu/kernels/optimizer';
import type { ParamLayout } from '../../model/params';

export interface GradBucket {
  start: number;
  end: number;
  /** the mark of the backward after which the bucket is final (marks.length: the end of it) */
  readyAt: number;
}

/** Elements per bucket: 2M (8 MiB), or an eighth of a smaller vector (so small models get several). */
export function bucketTarget(flatLength: number): number {
  return Math.max(64, Math.min(2 ** 21, Math.ceil(flatLength / 8)));
}

/**
 * Buckets covering [0, flatLength) except `separate` (e.g. a tied embedding, reduced on its
 * own after its two copies are summed), ordered by readiness (then by offset): the order in
 * which every replica issues their collectives.
 * marks: the parameter names each mark of the backward finishes, in program order; a
 * parameter no mark names is final only at the end.
 */
export function gradBuckets(
  layout: ParamLayout,
  flatLength: number,
  marks: readonly (readonly string[])[],
  target: number,
  separate: Range | null = null,
): GradBucket[] {
  const readyOf = new Map<string, number>();
  marks.forEach((names, i) => {
    for (const n of names) if (!readyOf.has(n)) readyOf.set(n, i);
  });
  const end = marks.length;
  // units: each slot with the padding after it; padding is zeros (ready at once: −1)
  const units: GradBucket[] = [];
  const slots = [...layout.slots].sort((a, b) => a.offset - b.offset);
  let at = 0;
  slots.forEach((s, i) => {
    if (s.offset > at) units.push({ start: at, end: s.offset, readyAt: -1 });
    const stop = i + 1 < slots.length ? slots[i + 1].offset : flatLength;
    units.push({ start: s.offset, end: s.offset + s.length, readyAt: readyOf.get(s.name) ?? end });
    if (stop > s.offset + s.length) units.push({ start: s.offset + s.length, end: stop, readyAt: -1 });
    at = stop;
  });
  if (flatLength > at) units.push({ start: at, end: flatLength, readyAt: -1 });

  const isSeparate = (u: GradBucket) => separate !== null && u.start === separate.start && u.end === separate.end;
  const buckets: GradBucket[] = [];
  let cur: GradBucket | null = null;
  const close = () => {
    if (cur) buckets.push(cur);
    cur = null;
  };
  for (const u of units) {
    if (isSeparate(u)) {
      close();
      continue;
    }
    const size = cur ? cur.end - cur.start : 0;
    // a run that finishes at another mark starts a new bucket once this one is worth sending
    if (cur && u.readyAt >= 0 && cur.readyAt >= 0 && u.readyAt !== cur.readyAt && size >= target / 4) close();
    if (!cur) cur = { start: u.start, end: u.end, readyAt: u.readyAt };
    else cur = { start: cur.start, end: u.end, readyAt: Math.max(cur.readyAt, u.readyAt) };
    if (cur.end - cur.start >= target) close();
  }
  close();
  return buckets
    .map((b) => ({ ...b, readyAt: Math.max(0, b.readyAt) }))
    .sort((a, b) => a.readyAt - b.readyAt || a.start - b.start);
}
