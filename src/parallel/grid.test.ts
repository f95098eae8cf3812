import { describe, expect, it } from 'vitest';
import { coordOf, rankGrid, rankOf } from './grid';

// Golden tables written out by hand from rank = tp + TP·dp + TP·DP·pp.
const GOLDEN = [
  {
    name: "Megatron's docstring example: 16 ranks, TP 2, PP 4",
    sizes: { tp: 2, pp: 4, dp: 2 },
    tp: [
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
      [10, 11],
      [12, 13],
      [14, 15],
    ],
    pp: [
      [0, 4, 8, 12],
      [1, 5, 9, 13],
      [2, 6, 10, 14],
      [3, 7, 11, 15],
    ],
    dp: [
      [0, 2],
      [1, 3],
      [4, 6],
      [5, 7],
      [8, 10],
      [9, 11],
      [12, 14],
      [13, 15],
    ],
  },
  {
    name: '8 ranks, TP 2, PP 2, DP 2',
    sizes: { tp: 2, pp: 2, dp: 2 },
    tp: [
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
    ],
    pp: [
      [0, 4],
      [1, 5],
      [2, 6],
      [3, 7],
    ],
    dp: [
      [0, 2],
      [1, 3],
      [4, 6],
      [5, 7],
    ],
  },
  {
    name: '12 ranks, TP 1, PP 3, DP 4',
    sizes: { tp: 1, pp: 3, dp: 4 },
    tp: [[0], [1], [2], [3], [4], [5], [6], [7], [8], [9], [10], [11]],
    pp: [
      [0, 4, 8],
      [1, 5, 9],
      [2, 6, 10],
      [3, 7, 11],
    ],
    dp: [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9, 10, 11],
    ],
  },
  {
    name: '8 ranks, TP 4, no pipeline, DP 2',
    sizes: { tp: 4, pp: 1, dp: 2 },
    tp: [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ],
    pp: [[0], [1], [2], [3], [4], [5], [6], [7]],
    dp: [
      [0, 4],
      [1, 5],
      [2, 6],
      [3, 7],
    ],
  },
  {
    name: '24 ranks, TP 2, PP 3, DP 4',
    sizes: { tp: 2, pp: 3, dp: 4 },
    tp: [
      [0, 1],
      [2, 3],
      [4, 5],
      [6, 7],
      [8, 9],
      [10, 11],
      [12, 13],
      [14, 15],
      [16, 17],
      [18, 19],
      [20, 21],
      [22, 23],
    ],
    pp: [
      [0, 8, 16],
      [1, 9, 17],
      [2, 10, 18],
      [3, 11, 19],
      [4, 12, 20],
      [5, 13, 21],
      [6, 14, 22],
      [7, 15, 23],
    ],
    dp: [
      [0, 2, 4, 6],
      [1, 3, 5, 7],
      [8, 10, 12, 14],
      [9, 11, 13, 15],
      [16, 18, 20, 22],
      [17, 19, 21, 23],
    ],
  },
  { name: 'one rank', sizes: { tp: 1, pp: 1, dp: 1 }, tp: [[0]], pp: [[0]], dp: [[0]] },
];

describe('rankGrid', () => {
  for (const g of GOLDEN) {
    it(`matches the golden groups: ${g.name}`, () => {
      const grid = rankGrid(g.sizes);
      expect(grid.groups.tp).toEqual(g.tp);
      expect(grid.groups.pp).toEqual(g.pp);
      expect(grid.groups.dp).toEqual(g.dp);
      expect(grid.world).toBe(g.sizes.tp * g.sizes.pp * g.sizes.dp);
    });
  }

  it('gives Megatron 16-rank coordinates: rank 13 is tp 1, dp 0, pp 3', () => {
    expect(rankGrid({ tp: 2, pp: 4, dp: 2 }).coords[13]).toEqual({ rank: 13, tp: 1, pp: 3, dp: 0 });
  });

  for (const sizes of [
    { tp: 2, pp: 4, dp: 3 },
    { tp: 3, pp: 2, dp: 5 },
    { tp: 1, pp: 6, dp: 2 },
  ]) {
    it(`puts every rank in exactly one group of each kind, at its coordinate (${JSON.stringify(sizes)})`, () => {
      const grid = rankGrid(sizes);
      for (const kind of ['tp', 'pp', 'dp'] as const) {
        const seen = grid.groups[kind].flat().sort((a, b) => a - b);
        expect(seen).toEqual(Array.from({ length: grid.world }, (_, r) => r));
        for (const group of grid.groups[kind]) {
          expect(group).toHaveLength(sizes[kind]);
          // members differ only in this coordinate, and sit in it in order 0, 1, …
          group.forEach((rank, i) => {
            const c = grid.coords[rank];
            expect(c[kind]).toBe(i);
            for (const other of ['tp', 'pp', 'dp'] as const)
              if (other !== kind) expect(c[other]).toBe(grid.coords[group[0]][other]);
          });
        }
      }
      for (const c of grid.coords) expect(rankOf(sizes, c)).toBe(c.rank);
      for (let r = 0; r < grid.world; r++) expect(coordOf(sizes, r).rank).toBe(r);
    });
  }

  it('rejects sizes that are not positive integers, naming the size', () => {
    expect(() => rankGrid({ tp: 0, pp: 1, dp: 1 })).toThrow('tp must be a positive integer, got 0');
    expect(() => rankGrid({ tp: 1, pp: 1.5, dp: 1 })).toThrow('pp must be a positive integer, got 1.5');
  });
});
