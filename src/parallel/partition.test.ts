import { describe, expect, it } from 'vitest';
import { pipeItems, type ModelShape, type PipeItem } from './params';
import { balancedBounds, partitionLayers } from './partition';
import { mulberry32 } from '../util/rng';

const shape = (numLayers: number, over: Partial<ModelShape> = {}): ModelShape => ({
  numLayers,
  hidden: 64,
  heads: 4,
  ffnHidden: 256,
  paddedVocab: 512,
  seqLength: 32,
  maxPositions: 32,
  posEmb: 'rotary',
  norm: 'layernorm',
  tiedEmbeddings: false,
  ...over,
});
const layersPerPart = (items: PipeItem[], bounds: number[]) =>
  bounds.slice(0, -1).map((b, p) => items.slice(b, bounds[p + 1]).filter((it) => it.layer !== undefined).length);
const weightsPerPart = (w: number[], bounds: number[]) =>
  bounds.slice(0, -1).map((b, p) => w.slice(b, bounds[p + 1]).reduce((a, x) => a + x, 0));

/** Smallest achievable largest part, by trying every split (small inputs only). */
function bruteForceMax(w: number[], parts: number): number {
  let best = Infinity;
  const rec = (start: number, left: number, worst: number) => {
    if (left === 1)
      return void (best = Math.min(
        best,
        Math.max(
          worst,
          w.slice(start).reduce((a, x) => a + x, 0),
        ),
      ));
    for (let end = start + 1; end <= w.length - left + 1; end++)
      rec(
        end,
        left - 1,
        Math.max(
          worst,
          w.slice(start, end).reduce((a, x) => a + x, 0),
        ),
      );
  };
  rec(0, parts, 0);
  return best;
}

describe('partitionLayers', () => {
  it('type:transformer spreads transformer layers within one of each other, embedding first, head last', () => {
    for (let L = 1; L <= 20; L++) {
      const items = pipeItems(shape(L), 1, true);
      for (let P = 1; P <= L; P++) {
        const bounds = partitionLayers(items, P, 'type:transformer');
        const counts = layersPerPart(items, bounds);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        expect(counts.reduce((a, b) => a + b, 0)).toBe(L);
        expect(bounds[0]).toBe(0);
        expect(bounds[P]).toBe(items.length);
        expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('uniform gives the first stages the extra layers, and matches type:transformer on even splits', () => {
    const items = pipeItems(shape(10), 1, true);
    expect(layersPerPart(items, partitionLayers(items, 4, 'uniform'))).toEqual([3, 3, 2, 2]);
    const even = pipeItems(shape(12), 1, true);
    expect(partitionLayers(even, 4, 'uniform')).toEqual(partitionLayers(even, 4, 'type:transformer'));
  });

  it('parameters reaches the smallest possible largest stage', () => {
    const rand = mulberry32(7);
    for (let trial = 0; trial < 60; trial++) {
      const n = 3 + Math.floor(rand() * 8);
      const w = Array.from({ length: n }, () => 1 + Math.floor(rand() * 100));
      const parts = 1 + Math.floor(rand() * n);
      const bounds = balancedBounds(w, parts);
      expect(bounds).toHaveLength(parts + 1);
      for (let p = 0; p < parts; p++) expect(bounds[p + 1]).toBeGreaterThan(bounds[p]);
      expect(Math.max(...weightsPerPart(w, bounds))).toBe(bruteForceMax(w, parts));
    }
  });

  it('parameters gives the heavy embedding and head stages fewer transformer layers', () => {
    const items = pipeItems(shape(8, { paddedVocab: 8192 }), 1, true);
    const counts = layersPerPart(items, partitionLayers(items, 4, 'parameters'));
    expect(counts[0]).toBeLessThan(counts[1]);
    expect(counts[3]).toBeLessThan(counts[2]);
  });

  it('fails clearly: more stages than layers, unknown method, regex matching nothing, bad regex', () => {
    const items = pipeItems(shape(3), 1, true);
    expect(() => partitionLayers(items, 4, 'type:transformer')).toThrow(
      'more pipeline stages than layers: 4 stages for num_layers 3',
    );
    expect(() => partitionLayers(items, 2, 'balanced')).toThrow(
      'pipe_partition_method "balanced" is not one of uniform, parameters, type:<regex>',
    );
    expect(() => partitionLayers(items, 2, 'type:attention')).toThrow(
      'pipe_partition_method "type:attention" matches no layer (layer types: EmbeddingPipe, ParallelTransformerLayerPipe, NormPipe, ParallelLinearPipe)',
    );
    expect(() => partitionLayers(items, 2, 'type:(')).toThrow(
      'pipe_partition_method "type:(": invalid regular expression',
    );
  });
});
