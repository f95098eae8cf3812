// Bytes of activation and scratch buffers one rank of NeoX 125M allocates (allocActs, the code the
// model runs) at seq 2048: fused attention forward with the recomputing backward (one shared
// (B·h, T, T) probabilities buffer and its gradient) or the fused backward (no T×T buffer), and
// without the fused kernels (the (B·h, T, T) probabilities of every layer plus their gradient).
// CPU only: a context that counts instead of allocating; the unfused numbers come from limits
// under which no fused tiling fits.
//   node --import tsx --import ./tools/register-raw.mjs bench/activation-memory.ts
import type { GpuContext } from '../src/gpu/context';
import type { GpuTensor } from '../src/gpu/tensor';
import { type AttentionBackward, allocActs, fusionFor, localDims } from '../src/model/activations';
import type { ModelSpec } from '../src/model/spec';

// NeoX 125M (bench/configs/125M.yml), dropout 0
const SPEC: ModelSpec = {
  V: 50304,
  C: 768,
  L: 12,
  H: 12,
  hd: 64,
  F: 3072,
  T: 2048,
  maxPos: 2048,
  norm: 'layernorm',
  normEps: 1e-5,
  posEmb: 'rotary',
  rotaryDims: 16,
  rotaryBase: 10000,
  tied: false,
  parallelResidual: false,
  hiddenDropout: 0,
  attentionDropout: 0,
  initStd: 0.02,
  initMethod: 'small_init',
  outputInitMethod: 'wang_init',
  seed: 1234,
};

function countingContext(storageBytes: number): { ctx: GpuContext; bytes: () => number; largest: () => number } {
  let total = 0,
    largest = 0;
  const limits = {
    maxComputeInvocationsPerWorkgroup: 1024,
    maxComputeWorkgroupSizeX: 1024,
    maxComputeWorkgroupSizeY: 1024,
    maxComputeWorkgroupStorageSize: storageBytes,
  };
  const ctx = {
    limits,
    adapter: { isFallbackAdapter: false },
    tensor(shape: readonly number[], name = 'tensor'): GpuTensor {
      const length = shape.reduce((a, b) => a * b, 1);
      total += length * 4;
      largest = Math.max(largest, length * 4);
      return { buffer: {} as GPUBuffer, offset: 0, length, shape, name };
    },
  } as unknown as GpuContext;
  return { ctx, bytes: () => total, largest: () => largest };
}

const variants: [number, AttentionBackward | undefined][] = [
  [49152, 'recompute'],
  [49152, 'fused'],
  [0, undefined],
];
const rows = [1, 4].flatMap((B) =>
  variants.map(([storage, backward]) => {
    const c = countingContext(storage);
    const d = localDims(SPEC, 1);
    allocActs(c.ctx, SPEC, d, B, B * SPEC.T * 2, SPEC.L, { attentionBackward: backward });
    const fused = fusionFor(c.ctx, SPEC, d, B, backward);
    return {
      B,
      T: SPEC.T,
      fusedAttention: fused.attention,
      attentionBackward: fused.attentionBackward ?? 'unfused',
      bytes: c.bytes(),
      largestBuffer: c.largest(),
    };
  }),
);
for (const r of rows) {
  const gib = (x: number) => (x / 2 ** 30).toFixed(2);
  console.error(
    `B ${r.B} fused forward ${r.fusedAttention}, backward ${r.attentionBackward}: ${gib(r.bytes)} GiB, largest buffer ${gib(r.largestBuffer)} GiB`,
  );
}
console.log(JSON.stringify({ model: 'NeoX 125M', activations: rows }));
