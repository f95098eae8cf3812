// The plan's activation memory (src/parallel/activation-memory.ts, no GPU) equals the bytes the
// trainer's allocation code asks for (allocActivationSet), through a context that counts buffers
// as GpuContext.createBuffer sizes them.
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../gpu/context';
import type { GpuTensor } from '../gpu/tensor';
import { activationBytes, type ActivationCountInput } from '../parallel/activation-memory';
import { allocActivationSet } from './activation-set';
import { localDims } from './activations';
import { seqPlace } from './sequence-parallel';
import type { ModelSpec } from './spec';

/** Limits of a GPU on which the fused attention kernels fit (the H200's workgroup storage). */
function countingContext(): { ctx: GpuContext; bytes: () => number } {
  let bytes = 0;
  const limits = {
    maxComputeInvocationsPerWorkgroup: 1024,
    maxComputeWorkgroupSizeX: 1024,
    maxComputeWorkgroupSizeY: 1024,
    maxComputeWorkgroupStorageSize: 49152,
    maxStorageBufferBindingSize: 2 ** 31,
  };
  const ctx = {
    limits,
    adapter: { isFallbackAdapter: false },
    tensor(shape: readonly number[], name = 'tensor'): GpuTensor {
      const length = shape.reduce((a, b) => a * b, 1);
      bytes += Math.max(16, Math.ceil((length * 4) / 16) * 16);
      return { buffer: {} as GPUBuffer, offset: 0, length, shape, name };
    },
  } as unknown as GpuContext;
  return { ctx, bytes: () => bytes };
}

const spec = (C: number, H: number, T: number, V: number, attentionDropout: number): ModelSpec => ({
  V,
  C,
  L: 4,
  H,
  hd: C / H,
  F: 4 * C,
  T,
  maxPos: T,
  norm: 'layernorm',
  normEps: 1e-5,
  posEmb: 'rotary',
  rotaryDims: 4,
  rotaryBase: 10000,
  tied: true,
  parallelResidual: false,
  hiddenDropout: 0.1,
  attentionDropout,
  initStd: 0.02,
  initMethod: 'normal',
  outputInitMethod: 'normal',
  seed: 1,
});

type Case = Omit<ActivationCountInput, 'hidden' | 'heads' | 'ffnHidden' | 'paddedVocab' | 'seqLength'> & {
  s: ModelSpec;
};

function allocated(c: Case): number {
  const { ctx, bytes } = countingContext();
  const tp = { size: c.tp, rank: 0 };
  allocActivationSet(ctx, c.s, localDims(c.s, c.tp), c.microBatch, {
    slots: c.slots,
    numLayers: c.layers,
    recomputeLayers: c.recomputeLayers,
    seq: c.sequenceParallel && c.tp > 1 ? seqPlace(c.microBatch, c.s.T, tp) : null,
    half: c.halfActivations,
  });
  return bytes();
}

const counted = (c: Case) =>
  activationBytes({
    ...c,
    hidden: c.s.C,
    heads: c.s.H,
    ffnHidden: c.s.F,
    paddedVocab: c.s.V,
    seqLength: c.s.T,
    parallelResidual: c.s.parallelResidual,
  });

const tiny = spec(32, 4, 32, 256, 0);
const small = spec(768, 12, 2048, 50304, 0);
const cases: Case[] = [];
for (const s of [tiny, spec(32, 4, 32, 256, 0.1)])
  for (const tp of [1, 2])
    for (const sequenceParallel of [false, true])
      for (const recomputeLayers of [0, 1, 3])
        cases.push({
          s,
          microBatch: 2,
          tp,
          layers: 4,
          slots: 2,
          recomputeLayers,
          sequenceParallel,
          attentionDropout: s.attentionDropout > 0,
        });
// NeoX 125M at seq 2048: fused attention with the recomputing backward (B 1), and the fused backward (B 8)
for (const microBatch of [1, 8])
  for (const sequenceParallel of [false, true])
    cases.push({
      s: small,
      microBatch,
      tp: 2,
      layers: 6,
      slots: 2,
      recomputeLayers: 0,
      sequenceParallel,
      attentionDropout: false,
    });
// 16-bit activations: packed copies per slot and layer, one shared f32 work layer (every
// attention path: probabilities, dropped probabilities, fused with either backward)
const gptJ = { ...spec(32, 4, 32, 256, 0.1), parallelResidual: true };
for (const s of [tiny, gptJ])
  for (const tp of [1, 2])
    for (const layers of [1, 2, 3, 4])
      cases.push({
        s,
        microBatch: 2,
        tp,
        layers,
        slots: 3,
        recomputeLayers: 0,
        sequenceParallel: tp > 1 && layers % 2 === 0,
        attentionDropout: s.attentionDropout > 0,
        halfActivations: true,
      });
// with recompute: chunk inputs packed (1 to 3 chunks: none, one and both shared input buffers)
for (const recomputeLayers of [1, 2, 3])
  cases.push({
    s: tiny,
    microBatch: 2,
    tp: 2,
    layers: 5,
    slots: 2,
    recomputeLayers,
    sequenceParallel: recomputeLayers === 2,
    attentionDropout: false,
    halfActivations: true,
  });
for (const microBatch of [1, 8])
  cases.push({
    s: small,
    microBatch,
    tp: 2,
    layers: 3,
    slots: 2,
    recomputeLayers: 0,
    sequenceParallel: microBatch === 8,
    attentionDropout: false,
    halfActivations: true,
  });
cases.push({
  s: small,
  microBatch: 1,
  tp: 4,
  layers: 0,
  slots: 1,
  recomputeLayers: 1,
  sequenceParallel: true,
  attentionDropout: false,
});

describe('activation memory: plan = allocation', () => {
  it.each(cases.map((c, i) => [i, c] as const))('case %i', (_, c) => {
    expect(counted(c)).toBe(allocated(c));
  });

  it('sequence parallelism keeps 1/tp of the norm, dropout and residual tensors', () => {
    const base = { s: tiny, microBatch: 2, tp: 2, layers: 4, slots: 1, recomputeLayers: 0, attentionDropout: false };
    const off = counted({ ...base, sequenceParallel: false });
    const on = counted({ ...base, sequenceParallel: true });
    const NC = 2 * 32 * 32 * 4;
    // per layer: x, ln1, attnOut, xMid, ln2, mlpOut and four (N) statistics lose half their rows;
    // per slot: xFinal, lnf, dx, dxSaved, dBranch and two statistics, plus dlnRows; shared: 3 (N, C)
    const perLayer = 6 * (NC / 2) + 4 * ((2 * 32 * 4) / 2);
    expect(off - on).toBe(4 * perLayer + 5 * (NC / 2) + 2 * (2 * 32 * 2) - NC / 2 - 3 * NC);
  });

  it('16-bit activations: a layer costs under half its f32 bytes (NeoX 125M, seq 2048)', () => {
    const base = { s: small, microBatch: 4, tp: 1, slots: 1, recomputeLayers: 0, sequenceParallel: false };
    const at = (layers: number, halfActivations: boolean) =>
      counted({ ...base, layers, attentionDropout: false, halfActivations });
    // what one more layer costs: its packed copies and f32 statistics, against all its f32 tensors
    const perLayer = (half: boolean) => (at(12, half) - at(6, half)) / 6;
    const ratio = perLayer(true) / perLayer(false);
    expect(ratio).toBeLessThan(0.5); // qkv, attnOut, mlpOut are not kept at all
    expect(ratio).toBeGreaterThan(0.35);
    // the whole adds one f32 work layer (at most a layer's f32 bytes) and keeps the logits and
    // the backward scratch in f32: 12 layers save more than 10 layers' worth of the difference
    expect(at(12, false) - at(12, true)).toBeGreaterThan(10 * (perLayer(false) - perLayer(true)));
    const [all, layer] = [`${at(12, false)} → ${at(12, true)} B`, `${perLayer(false)} → ${perLayer(true)} B`];
    console.log(`[memory] 125M seq 2048 B 4: activations ${all}; per layer ${layer}`);
  });
});
