import { describe, expect, it } from 'vitest';
import { chunkRoute, chunkTag } from './chunk-route';

describe('chunkRoute', () => {
  const place = (stage: number) => ({ stage, stages: 3, ppGroup: { name: 'pp[1,5,9]', ranks: [1, 5, 9] } });

  it('is the line of stages without interleaving', () => {
    expect([0, 1, 2].map((s) => chunkRoute(place(s), 0, 1))).toEqual([
      { global: 0, prevRank: null, nextRank: 5 },
      { global: 1, prevRank: 1, nextRank: 9 },
      { global: 2, prevRank: 5, nextRank: null },
    ]);
  });

  it('closes a ring under interleaving: the last stage feeds the first stage’s next chunk', () => {
    // P 3, v 2: global chunks 0..5, chunk k of stage s is k·3 + s
    expect(chunkRoute(place(2), 0, 2)).toEqual({ global: 2, prevRank: 5, nextRank: 1 });
    expect(chunkRoute(place(0), 1, 2)).toEqual({ global: 3, prevRank: 9, nextRank: 5 });
    expect(chunkRoute(place(2), 1, 2)).toEqual({ global: 5, prevRank: 5, nextRank: null });
    expect(chunkRoute(place(0), 0, 2)).toEqual({ global: 0, prevRank: null, nextRank: 5 });
  });

  it('tags a message with its consuming chunk only when interleaved', () => {
    expect(chunkTag('pp:activation:3:1', 4, 1)).toBe('pp:activation:3:1');
    expect(chunkTag('pp:activation:3:1', 4, 2)).toBe('pp:activation:3:1.4');
  });
});
