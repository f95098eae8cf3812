// The rank grid: which (tp, pp, dp) coordinates each rank has and which ranks form each
// process group. Megatron's default order (tp-cp-ep-dp-pp with cp = ep = 1), which NeoX's
// topology matches: rank = tp + TP·dp + TP·DP·pp.

import { requirePositiveInt } from './errors';

export interface GridSizes {
  tp: number;
  pp: number;
  dp: number;
}

export interface RankCoord {
  rank: number;
  tp: number;
  pp: number;
  dp: number;
}

export interface RankGrid extends GridSizes {
  world: number;
  /** coords[rank] */
  coords: RankCoord[];
  groups: {
    /** one group per (pp, dp): ranks that split each layer's tensors */
    tp: number[][];
    /** one group per (tp, dp): the stages one microbatch flows through, in stage order */
    pp: number[][];
    /** one group per (tp, pp): replicas whose gradients are averaged */
    dp: number[][];
  };
}

export function rankOf(sizes: GridSizes, c: { tp: number; pp: number; dp: number }): number {
  return c.tp + sizes.tp * c.dp + sizes.tp * sizes.dp * c.pp;
}

export function coordOf(sizes: GridSizes, rank: number): RankCoord {
  return {
    rank,
    tp: rank % sizes.tp,
    dp: Math.floor(rank / sizes.tp) % sizes.dp,
    pp: Math.floor(rank / (sizes.tp * sizes.dp)),
  };
}

export function rankGrid(sizes: GridSizes): RankGrid {
  requirePositiveInt('tp', sizes.tp);
  requirePositiveInt('pp', sizes.pp);
  requirePositiveInt('dp', sizes.dp);
  const { tp, pp, dp } = sizes;
  const world = tp * pp * dp;
  const coords = Array.from({ length: world }, (_, r) => coordOf(sizes, r));

  const tpGroups: number[][] = [];
  const dpGroups: number[][] = [];
  const ppGroups: number[][] = [];
  for (let p = 0; p < pp; p++) {
    for (let d = 0; d < dp; d++) tpGroups.push(range(tp).map((t) => rankOf(sizes, { tp: t, pp: p, dp: d })));
    for (let t = 0; t < tp; t++) dpGroups.push(range(dp).map((d) => rankOf(sizes, { tp: t, pp: p, dp: d })));
  }
  for (let d = 0; d < dp; d++) {
    for (let t = 0; t < tp; t++) ppGroups.push(range(pp).map((p) => rankOf(sizes, { tp: t, pp: p, dp: d })));
  }
  // Megatron lists groups by their smallest rank.
  const byFirst = (a: number[], b: number[]) => a[0] - b[0];
  return {
    tp,
    pp,
    dp,
    world,
    coords,
    groups: { tp: tpGroups.sort(byFirst), pp: ppGroups.sort(byFirst), dp: dpGroups.sort(byFirst) },
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
