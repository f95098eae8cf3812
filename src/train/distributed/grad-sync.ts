// After the schedule, every rank's gradients become the global ones and the optimizer steps:
//   1. tied embeddings: the first and last stage's copies of embed.wte have their gradients summed;
//   2. data parallel: gradients averaged over the replicas by ring all-reduce, or with ZeRO-1
//      reduce-scattered so each replica gets the average of only the shard it updates (not with
//      local SGD: each replica steps on its own gradients, and rounds average the weights);
//   3. the global gradient norm: each rank's Σ g² (its optimizer range, minus what another rank
//      counts) summed over the norm group, so every rank clips by the same coefficient;
//   4. clip + AdamW over the rank's range; with ZeRO-1 the updated shards are all-gathered.
import type { GroupSpec } from '../../comm/worker-bridge';
import type { Trainer } from '../trainer';
import type { RankComm } from './rank-comm';

export interface GradSyncPlace {
  comm: RankComm;
  /** [first stage rank, last stage rank] when embeddings are tied across stages */
  tiedEmbeddingGroup: GroupSpec | null;
  dpGroup: GroupSpec;
  /** ZeRO-1: the optimizer state is split over dpGroup */
  zero: boolean;
  /** false with local SGD: each replica steps on its own gradients (rounds average the weights) */
  dpAverage?: boolean;
  /** Σ g² is summed over these groups in turn (TP, then PP, then DP with ZeRO), which covers
   *  every rank whose gradients are part of the global norm */
  normGroups: GroupSpec[];
}

export interface SyncTimes {
  /** ms in gradient collectives (tied, DP, norm, ZeRO gather) */
  allReduceMs: number;
  /** ms in the norm + optimizer dispatches (and their readbacks) */
  optimizerMs: number;
}

export async function syncAndUpdate(t: Trainer, place: GradSyncPlace): Promise<SyncTimes> {
  const { comm } = place;
  const { ctx, model } = t;
  const dp = place.dpAverage === false ? 1 : place.dpGroup.ranks.length;
  let commMs = 0;
  const timed = async <T>(f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      commMs += performance.now() - t0;
    }
  };
  if (place.tiedEmbeddingGroup || dp > 1) {
    const grads = await t.readGrads(true);
    if (place.tiedEmbeddingGroup) {
      const wte = model.layout.byName.get('embed.wte')!;
      grads.set(
        await timed(() =>
          comm.allReduce(grads.slice(wte.offset, wte.offset + wte.length), place.tiedEmbeddingGroup!, 'sum'),
        ),
        wte.offset,
      );
    }
    if (dp > 1 && place.zero) {
      t.writeGrads(await timed(() => comm.reduceScatter(grads, place.dpGroup, 'avg')), t.optRange.start);
    } else {
      t.writeGrads(dp > 1 ? await timed(() => comm.allReduce(grads, place.dpGroup, 'avg')) : grads);
    }
  }
  const o0 = performance.now();
  ctx.run(t.normDispatches);
  let optMs = 0;
  const normGroups = place.normGroups.filter((g) => g.ranks.length > 1);
  if (normGroups.length > 0) {
    let sq = await ctx.read(t.gradSq);
    optMs += performance.now() - o0;
    for (const g of normGroups) sq = await timed(() => comm.allReduce(sq, { ...g, name: `${g.name}:gradnorm` }, 'sum'));
    ctx.write(t.gradSq, sq);
  }
  const o1 = performance.now();
  ctx.run([t.updateDispatch]);
  if (dp > 1 && place.zero) {
    const mine = await t.readOptParams();
    optMs += performance.now() - o1;
    t.writeParams(await timed(() => comm.allGather(mine, place.dpGroup)));
  } else {
    await ctx.sync();
    optMs += performance.now() - o1;
  }
  return { allReduceMs: commMs, optimizerMs: optMs };
}
