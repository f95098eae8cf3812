import { describe, expect, it } from 'vitest';
import { layoutParams, paramDefs, stageParamDefs, fullModel } from './params';
import { localShape, shardTensor, unshardTensor, vocabRange } from './tp-shard';
import type { ModelSpec } from './spec';

const spec: ModelSpec = {
  V: 64,
  C: 16,
  L: 2,
  H: 4,
  hd: 4,
  F: 32,
  T: 8,
  maxPos: 8,
  norm: 'layernorm',
  normEps: 1e-5,
  posEmb: 'learned',
  rotaryDims: 0,
  rotaryBase: 10000,
  tied: true,
  parallelResidual: false,
  hiddenDropout: 0,
  attentionDropout: 0,
  initStd: 0.02,
  initMethod: 'normal',
  outputInitMethod: 'scaled_normal',
  seed: 1,
};
const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

describe('tensor-parallel shards', () => {
  it('column: rank r holds output rows; QKV rows of whole heads', () => {
    // QKV (3C, C) in NeoX per-head order: head h owns rows [3·hd·h, 3·hd·(h+1))
    const full = iota(3 * 16 * 16);
    const s1 = shardTensor('column', [48, 16], full, { size: 2, rank: 1 });
    expect(localShape('column', [48, 16], 2)).toEqual([24, 16]);
    expect(s1[0]).toBe(24 * 16); // first row of head 2 = 2·3·hd
    expect(s1.length).toBe(24 * 16);
  });

  it('row: rank r holds input columns', () => {
    const full = iota(4 * 6);
    expect(Array.from(shardTensor('row', [4, 6], full, { size: 3, rank: 1 }))).toEqual([2, 3, 8, 9, 14, 15, 20, 21]);
  });

  it.each(['column', 'row', 'vocab', 'replicated'] as const)('%s: unshard inverts shard for tp 2 and 4', (split) => {
    for (const tp of [2, 4]) {
      const full = iota(8 * 12);
      const parts = Array.from({ length: tp }, (_, r) => shardTensor(split, [8, 12], full, { size: tp, rank: r }));
      expect(Array.from(unshardTensor(split, [8, 12], split === 'replicated' ? [parts[0]] : parts))).toEqual(
        Array.from(full),
      );
    }
  });

  it('names the tensor and size that does not divide', () => {
    expect(() => localShape('column', [6, 4], 4, 'layers.0.mlp.up.weight')).toThrow(
      /layers.0.mlp.up.weight output size \(6\) is not divisible by model_parallel_size 4/,
    );
    expect(() => vocabRange(50, { size: 4, rank: 0 })).toThrow(/padded vocabulary \(50\) is not divisible/);
  });

  it('a TP rank holds 1/tp of every split tensor; replicated tensors form one contiguous range', () => {
    const one = layoutParams(stageParamDefs(spec, fullModel(spec), 1));
    const two = layoutParams(stageParamDefs(spec, fullModel(spec), 2));
    const split = paramDefs(spec).filter((d) => d.tp !== 'replicated');
    for (const d of split) expect(two.byName.get(d.name)!.length * 2).toBe(one.byName.get(d.name)!.length);
    for (const s of two.slots) {
      const inside = s.offset >= two.replicated.start && s.offset + s.length <= two.replicated.end;
      expect(inside, s.name).toBe(s.tp === 'replicated');
    }
    expect(two.byName.get('embed.wte')!.offset).toBe(0);
    expect(two.slots.filter((s) => s.decay).every((s) => s.offset + s.length <= two.decayCount)).toBe(true);
  });
});
