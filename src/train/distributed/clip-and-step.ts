// The end of every synchronised step, once each rank holds its (shard of the) averaged gradients:
// Σ g² and, with mixed precision, the overflow flag summed over the norm groups (the flag also over
// the data-parallel group where no norm group covers the replicas), so that every rank clips by the
// same coefficient and skips or applies the step together; after an update, a ZeRO layout that
// keeps whole parameters at rest (stages 1 and 2) all-gathers the updated shards.
import { readHalf } from '../../model/half-readback';
import type { Trainer } from '../trainer';
import type { GradSyncPlace } from './grad-sync';
import { deviceFor } from './rank-comm';

/** Runs a collective and adds its time to the step's communication time. */
export type Timed = <T>(f: () => Promise<T>) => Promise<T>;

/** A stopwatch for the step's collectives: `timed(f)` runs f, `ms()` is the time spent in them. */
export function commTimer(): { timed: Timed; ms: () => number } {
  let total = 0;
  const timed: Timed = async (f) => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      total += performance.now() - t0;
    }
  };
  return { timed, ms: () => total };
}

export interface ClipAndStepOptions {
  /** sum the overflow flag over the data-parallel group too (replicas without ZeRO) */
  overflowOverDp: boolean;
  /** all-gather the updated shards over the data-parallel group */
  gatherShards: boolean;
  /** when the optimizer's part of the step began (its milliseconds count from there) */
  since: number;
}

/** Clips and steps (or skips the step on every rank); returns the optimizer's milliseconds. */
export async function clipAndStep(
  t: Trainer,
  place: GradSyncPlace,
  timed: Timed,
  o: ClipAndStepOptions,
): Promise<number> {
  const { ctx } = t;
  const { comm } = place;
  ctx.run(t.normDispatches);
  let optMs = 0;
  const normGroups = place.normGroups.filter((g) => g.ranks.length > 1);
  const mixed = t.mixed !== null;
  let overflow = false;
  if (normGroups.length > 0 || mixed) {
    // [Σ g²] or, mixed, [Σ g², overflow flag]: summed together
    let sq = mixed ? await t.readNormAndOverflow() : await ctx.read(t.gradSq);
    optMs += performance.now() - o.since;
    for (const g of normGroups) sq = await timed(() => comm.allReduce(sq, { ...g, name: `${g.name}:gradnorm` }, 'sum'));
    if (mixed && o.overflowOverDp) {
      const dp = place.dpGroup;
      const flags = await timed(() => comm.allReduce(sq.slice(1, 2), { ...dp, name: `${dp.name}:overflow` }, 'sum'));
      sq[1] = flags[0];
    }
    overflow = mixed && sq[1] > 0;
    ctx.write(t.gradSq, sq.subarray(0, 1));
  }
  const o1 = performance.now();
  if (overflow) {
    t.settleOverflow(true);
    return optMs;
  }
  t.applyUpdate();
  t.settleOverflow(false);
  if (!o.gatherShards) return optMs + (performance.now() - o1); // the loss readback that follows waits for the update
  const dev = deviceFor(comm, place.dpGroup, ctx);
  if (dev) {
    // replicas on this rank's device: each one's updated f32 shard is copied into the others'
    // parameters (the master with 16-bit weights, whose working copy is cast again)
    await timed(() => dev.allGather(t.flatParams(true), place.dpGroup));
    t.paramsChanged();
    return optMs + (performance.now() - o1);
  }
  if (!t.paramWire) {
    const mine = await t.readOptParams();
    optMs += performance.now() - o1;
    t.writeParams(await timed(() => comm.allGather(mine, place.dpGroup)));
    return optMs;
  }
  // mixed precision with a 16-bit working copy: the shard is packed on the GPU as the cast into the
  // working copy packs it (half the readback) and sent in 16 bits; the others' shards arrive as
  // their owners' casts round them, and this rank's own shard of the master stays f32
  const [mine] = await readHalf(t.ctx, t, [t.optParams], t.paramWire);
  optMs += performance.now() - o1;
  const all = await timed(() => comm.allGather(mine, { ...place.dpGroup, wire: t.paramWire! }));
  const { start, end } = t.optRange;
  if (start > 0) t.writeParams(all.subarray(0, start));
  if (end < all.length) t.writeParams(all.subarray(end), end);
  return optMs;
}
