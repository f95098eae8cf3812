import { describe, expect, it } from 'vitest';
import { activationBytes } from './activation-memory';
import { estimateMemory, layerActivationBytes, zeroStageRun } from './memory';
import { embeddingParams, pipeItems, totalParams, transformerLayerParams, type ModelShape } from './params';

const neox = (numLayers: number, hidden: number, paddedVocab: number): ModelShape => ({
  numLayers,
  hidden,
  heads: hidden / 64,
  ffnHidden: 4 * hidden,
  paddedVocab,
  seqLength: 2048,
  maxPositions: 2048,
  posEmb: 'rotary',
  norm: 'layernorm',
  tiedEmbeddings: false,
});

describe('parameter counts', () => {
  it('match the published sizes of Pythia and GPT-NeoX-20B', () => {
    expect(totalParams(neox(6, 512, 50304))).toBe(70_426_624); // pythia-70m
    expect(totalParams(neox(12, 768, 50304))).toBe(162_322_944); // pythia-160m
    expect(totalParams(neox(24, 1024, 50304))).toBe(405_334_016); // pythia-410m
    expect(totalParams(neox(44, 6144, 50432))).toBe(20_554_567_680); // gpt-neox-20b
  });

  it('is 12h² + 13h per layer with layernorm and a 4h MLP', () => {
    const m = neox(1, 768, 50304);
    expect(transformerLayerParams(m, 1)).toBe(12 * 768 ** 2 + 13 * 768);
  });

  it('splits under TP: the ranks together hold every parameter once, plus copies of the replicated ones', () => {
    const m = neox(4, 1024, 50432);
    const h = 1024;
    const replicatedPerLayer = 2 * (2 * h) + h + h; // two layernorms, two row-parallel biases
    for (const tp of [2, 4, 8]) {
      const perRank = pipeItems(m, tp, false).reduce((n, it) => n + it.params, 0);
      const replicated = 4 * replicatedPerLayer + 2 * h; // layers + final norm
      expect(perRank * tp - replicated * (tp - 1)).toBe(totalParams(m));
    }
  });

  it('counts learned positions with the embedding, and a tied head only on a pipelined last stage', () => {
    const m = neox(2, 256, 1024);
    expect(embeddingParams({ ...m, posEmb: 'learned' }, 1) - embeddingParams(m, 1)).toBe(2048 * 256);
    const tied = { ...m, tiedEmbeddings: true };
    expect(totalParams(m) - totalParams(tied)).toBe(1024 * 256);
    expect(pipeItems(tied, 1, true).at(-1)!.params).toBe(1024 * 256);
    expect(pipeItems(tied, 1, false).at(-1)!.params).toBe(0);
  });
});

describe('memory estimate', () => {
  // a flat vector of 1024 padded elements: 256 outside the layers, 384 per layer
  const base = {
    flat: 1024,
    rest: 256,
    layer: 384,
    dp: 4,
    zeroStage: 0,
    layers: 2,
    slots: 3,
    microBatch: 2,
    seqLength: 8,
    hidden: 16,
    heads: 2,
    ffnHidden: 64,
    tp: 1,
    paddedVocab: 64,
    recomputeLayers: 0,
    sequenceParallel: false,
    attentionDropout: false,
  };

  it('takes 4 bytes per parameter and gradient, 8 for Adam m and v, and ZeRO-1 shards m and v over DP', () => {
    expect(estimateMemory(base)).toMatchObject({ params: 4096, grads: 4096, optimizer: 8192, window: 0 });
    expect(estimateMemory({ ...base, zeroStage: 1 })).toMatchObject({ params: 4096, grads: 4096, optimizer: 2048 });
  });

  it('ZeRO-2 keeps the gradient shard and a window of the rest + one layer; ZeRO-3 the parameters so too', () => {
    const window = (256 + 384) * 4;
    expect(estimateMemory({ ...base, zeroStage: 2 })).toMatchObject({
      params: 4096,
      grads: 1024 + window,
      optimizer: 2048,
      window,
    });
    expect(estimateMemory({ ...base, zeroStage: 3 })).toMatchObject({
      params: 1024 + window,
      grads: 1024 + window,
      optimizer: 2048,
    });
  });

  it('pads the flat vector to 64·DP elements under ZeRO, so every shard starts aligned', () => {
    const odd = { ...base, flat: 1088, dp: 3 };
    expect(estimateMemory({ ...odd, zeroStage: 1 }).optimizer).toBe(2 * (1152 / 3) * 4);
    expect(estimateMemory({ ...odd, zeroStage: 0 }).optimizer).toBe(2 * 1088 * 4);
  });

  it('runs the configured stage only with DP > 1', () => {
    expect([0, 1, 2, 3].map((s) => zeroStageRun(s, 2))).toEqual([0, 1, 2, 3]);
    expect([0, 1, 2, 3].map((s) => zeroStageRun(s, 1))).toEqual([0, 0, 0, 0]);
    expect(() => zeroStageRun(4, 2)).toThrow('zero_optimization.stage must be 0, 1, 2 or 3, got 4');
    expect(estimateMemory({ ...base, dp: 1, zeroStage: 3 })).toEqual(estimateMemory({ ...base, dp: 1 }));
  });

  it("Korthikanti et al.'s per-layer model: s·b·h·(10 + 24/t + 5as/(ht))·2 bytes", () => {
    const perLayer = 8 * 2 * 16 * (10 + 24 + (5 * 2 * 8) / 16) * 2;
    expect(layerActivationBytes(base)).toBe(perLayer);
  });

  it('counts the activation buffers the trainer allocates (src/model/activation-set.test.ts checks the count)', () => {
    const m = estimateMemory(base);
    expect(m.activations).toBe(activationBytes({ ...base }));
    expect(m.total).toBe(m.params + m.grads + m.optimizer + m.activations);
    // each slot holds every layer's tensors: one more layer costs one layer per slot
    const perLayer = (activationBytes({ ...base, layers: 3 }) - m.activations) / 3;
    expect(activationBytes({ ...base, layers: 4 }) - m.activations).toBe(2 * 3 * perLayer);
    // recompute keeps each chunk's input per slot; sequence parallelism keeps 1/tp of the token-wise tensors
    expect(activationBytes({ ...base, recomputeLayers: 1 })).toBeLessThan(m.activations);
    const tp2 = { ...base, tp: 2 };
    expect(activationBytes({ ...tp2, sequenceParallel: true })).toBeLessThan(activationBytes(tp2));
    expect(activationBytes({ ...base, sequenceParallel: true })).toBe(m.activations); // no effect without TP
  });
});
