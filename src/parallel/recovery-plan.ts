// PURE: the next membership generation of an elastic run. Given who can hold a rank now
// (tabs that held one, with what they reported when halted; standbys in join order), the
// complete checkpoints, and the configured layout, it picks the layout (all replicas, or
// fewer with gradient accumulation raised), who holds which rank, the one step every rank
// resumes from, and where each rank's state at that step comes from, fastest first:
// keep (in memory) → dp-peer (a replica of the same stage and shard sends it) → local
// (the tab's own snapshot) → checkpoint → init (step 0). It prefers the latest step, then
// the most replicas; with no way to fill every rank it says why the run has to wait.
import type { ElasticLayout, HaltReport, RestoreSource } from '../protocol';
import { coordOf, rankOf } from './grid';

export interface Member {
  id: string;
  /** the rank it held in `current` (null: a standby) */
  rank: number | null;
  /** what it reported when halted (null: nothing in memory and no snapshots known) */
  report: HaltReport | null;
}

export interface RecoveryInput {
  /** the layout of the config (all replicas) */
  configured: ElasticLayout;
  /** the layout of the generation that ended (null: the run has not started) */
  current: ElasticLayout | null;
  /** ZeRO (any stage ≥ 1 with DP > 1) splits Adam's moments by replica, stage 2 the gradients
   *  and stage 3 the parameters too: a rank's state exists only on that rank (and in its
   *  snapshots and the checkpoints), never on another replica */
  zero: boolean;
  /** tabs able to hold a rank, rank holders first is not required: standbys count in this order */
  members: Member[];
  /** steps of complete checkpoints in the run's save store and in its load store */
  checkpoints: { save: number[]; load: number[] };
  /** run the data-parallel replicas that can be filled, fewer than configured (default true) */
  allowShrink?: boolean;
}

export interface RankAssignment {
  member: string;
  rank: number;
  restore: RestoreSource;
  /** ranks this rank sends its state to */
  donate: number[];
}

export type RecoveryPlan =
  | {
      kind: 'go';
      layout: ElasticLayout;
      step: number;
      assignments: RankAssignment[];
      /** members left without a rank (standbys) */
      idle: string[];
      /** where the ranks that did not keep their state got it (the slowest such source), or
       *  'none' when every rank kept its own */
      restoredFrom: 'dp-peer' | 'local' | 'checkpoint' | 'init' | 'none';
    }
  | { kind: 'wait'; reason: string };

interface Place {
  pp: number;
  tp: number;
}

/** Data-parallel sizes to try, largest first: each must split the step's micro-batches evenly. */
export function replicaCounts(configured: ElasticLayout, allowShrink: boolean): number[] {
  const microBatches = configured.accum * configured.dp;
  const out: number[] = [];
  for (let dp = configured.dp; dp >= 1; dp--) {
    if (microBatches % dp === 0) out.push(dp);
    if (!allowShrink) break;
  }
  return out;
}

function layoutWith(configured: ElasticLayout, dp: number): ElasticLayout {
  return { tp: configured.tp, pp: configured.pp, dp, accum: (configured.accum * configured.dp) / dp };
}

/** Who holds which rank of `layout`, keeping holders in their stage and shard where possible. */
function seat(input: RecoveryInput, layout: ElasticLayout): Map<number, Member> | null {
  const { tp, pp } = layout;
  const current = input.current;
  const key = (p: Place) => `${p.pp}.${p.tp}`;
  const placeOf = (m: Member): (Place & { dp: number }) | null =>
    current && m.rank !== null && m.rank < current.tp * current.pp * current.dp ? coordOf(current, m.rank) : null;
  // old replicas, the most complete first
  const replicas = new Map<number, Map<string, Member>>();
  for (const m of input.members) {
    const p = placeOf(m);
    if (!p) continue;
    if (!replicas.has(p.dp)) replicas.set(p.dp, new Map());
    replicas.get(p.dp)!.set(key(p), m);
  }
  const order = [...replicas.entries()].sort((a, b) => b[1].size - a[1].size || a[0] - b[0]);
  const seats = new Map<number, Member>();
  const used = new Set<string>();
  order.slice(0, layout.dp).forEach(([, holders], newDp) => {
    for (const [k, m] of holders) {
      const [p, t] = k.split('.').map(Number);
      seats.set(rankOf(layout, { tp: t, pp: p, dp: newDp }), m);
      used.add(m.id);
    }
  });
  const vacant = () => Array.from({ length: tp * pp * layout.dp }, (_, r) => r).filter((r) => !seats.has(r));
  // holders of dropped replicas first go where their state fits, then standbys, then anyone
  const spare = input.members.filter((m) => !used.has(m.id));
  for (const r of vacant()) {
    const want = coordOf(layout, r);
    const m = spare.find((s) => {
      const p = placeOf(s);
      return p && p.pp === want.pp && p.tp === want.tp;
    });
    if (m) {
      seats.set(r, m);
      spare.splice(spare.indexOf(m), 1);
    }
  }
  const byPreference = [...spare.filter((m) => !placeOf(m)), ...spare.filter((m) => placeOf(m))];
  for (const r of vacant()) {
    const m = byPreference.shift();
    if (!m) return null;
    seats.set(r, m);
  }
  return seats;
}

/** The sources each seated member could restore from at `step`, given the seating. */
function sourceAt(
  input: RecoveryInput,
  layout: ElasticLayout,
  rank: number,
  m: Member,
  step: number,
  keepers: Map<string, number>,
): RestoreSource | null {
  const cur = input.current;
  const want = coordOf(layout, rank);
  const had = cur && m.rank !== null ? coordOf(cur, m.rank) : null;
  const samePlace = had !== null && had.pp === want.pp && had.tp === want.tp;
  // with ZeRO the moments are this replica's shard: only the same shard of the same DP size fits
  const sameShard = samePlace && (!input.zero || (cur!.dp === layout.dp && had!.dp === want.dp));
  if (sameShard && m.report?.reachable.includes(step)) return { kind: 'keep' };
  const donor = keepers.get(`${want.pp}.${want.tp}`);
  if (!input.zero && donor !== undefined && donor !== rank) return { kind: 'dp-peer', from: donor };
  if (sameShard && m.report?.snapshots.includes(step)) return { kind: 'local' };
  if (input.checkpoints.save.includes(step)) return { kind: 'checkpoint', iteration: step, source: 'save' };
  if (input.checkpoints.load.includes(step)) return { kind: 'checkpoint', iteration: step, source: 'load' };
  if (step === 0) return { kind: 'init' };
  return null;
}

const SLOWNESS: Record<RestoreSource['kind'], number> = { keep: 0, 'dp-peer': 1, local: 2, checkpoint: 3, init: 4 };

function tryStep(
  input: RecoveryInput,
  layout: ElasticLayout,
  seats: Map<number, Member>,
  step: number,
): RankAssignment[] | null {
  // ranks that keep their state at `step` can be their replicas' dp-peer source
  const keepers = new Map<string, number>();
  const cur = input.current;
  for (const [rank, m] of [...seats].sort((a, b) => a[0] - b[0])) {
    const want = coordOf(layout, rank);
    const had = cur && m.rank !== null ? coordOf(cur, m.rank) : null;
    const k = `${want.pp}.${want.tp}`;
    if (had && had.pp === want.pp && had.tp === want.tp && m.report?.reachable.includes(step) && !keepers.has(k))
      keepers.set(k, rank);
  }
  const out: RankAssignment[] = [];
  for (const [rank, m] of [...seats].sort((a, b) => a[0] - b[0])) {
    const restore = sourceAt(input, layout, rank, m, step, keepers);
    if (!restore) return null;
    out.push({ member: m.id, rank, restore, donate: [] });
  }
  for (const a of out) {
    if (a.restore.kind !== 'dp-peer') continue;
    const from = a.restore.from;
    out.find((d) => d.rank === from)!.donate.push(a.rank);
  }
  return out;
}

export function planRecovery(input: RecoveryInput): RecoveryPlan {
  const { configured } = input;
  const steps = new Set<number>([0, ...input.checkpoints.save, ...input.checkpoints.load]);
  for (const m of input.members)
    for (const s of [...(m.report?.reachable ?? []), ...(m.report?.snapshots ?? [])]) steps.add(s);
  const candidates = [...steps].sort((a, b) => b - a);
  let best: Extract<RecoveryPlan, { kind: 'go' }> | null = null;
  for (const dp of replicaCounts(configured, input.allowShrink ?? true)) {
    const layout = layoutWith(configured, dp);
    const seats = seat(input, layout);
    if (!seats) continue;
    for (const step of candidates) {
      if (best && step <= best.step) break; // a smaller layout must resume later to be better
      const assignments = tryStep(input, layout, seats, step);
      if (!assignments) continue;
      const seated = new Set(assignments.map((a) => a.member));
      const worst = assignments.reduce((w, a) => Math.max(w, SLOWNESS[a.restore.kind]), 0);
      const restoredFrom = (['none', 'dp-peer', 'local', 'checkpoint', 'init'] as const)[worst];
      best = {
        kind: 'go',
        layout,
        step,
        assignments,
        idle: input.members.filter((m) => !seated.has(m.id)).map((m) => m.id),
        restoredFrom,
      };
      break;
    }
  }
  if (best) return best;
  const world = configured.tp * configured.pp * configured.dp;
  const smallest = configured.tp * configured.pp;
  const reason =
    input.members.length < smallest
      ? `${input.members.length} tab(s) for a replica of ${smallest} ranks (TP ${configured.tp} × PP ${configured.pp}): waiting for tabs`
      : `no step every rank can resume from with ${input.members.length} tab(s) for ${world} ranks: waiting for tabs`;
  return { kind: 'wait', reason };
}
