// matmul()'s choice of kernel, tiles and K splits per product (planMatmul), on the limits of an
// H200 and of SwiftShader, at NeoX 125M's GEMMs (bench/matmul-shapes.json).
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../context';
import type { GpuTensor } from '../tensor';
import {
  batchedSplitProblem,
  type MatmulSpec,
  matmulPlanName,
  planMatmul,
  resolveMatmulSpec,
  smallSplitProduct,
  splitKFor,
} from './matmul';
import { attentionProducts } from './attention-products';
import { SPLIT_TILES } from './matmul-config';

const device = (invocations: number, storage: number, fallback: boolean) =>
  ({
    limits: {
      maxComputeInvocationsPerWorkgroup: invocations,
      maxComputeWorkgroupSizeX: invocations,
      maxComputeWorkgroupSizeY: invocations,
      maxComputeWorkgroupStorageSize: storage,
    },
    adapter: { isFallbackAdapter: fallback },
  }) as unknown as GpuContext;
const h200 = device(1024, 48 * 1024, false);
const swiftshader = device(256, 32 * 1024, true);
const t = (offset = 0) => ({ offset }) as GpuTensor;

const plan = (ctx: GpuContext, spec: MatmulSpec, offset = 0, fused = false) =>
  matmulPlanName(planMatmul(ctx, spec, t(offset), t(), t(), fused));

describe('planMatmul on an H200', () => {
  it('splits K of the small weight-gradient grids until there are about 2048 workgroups', () => {
    expect(plan(h200, { M: 768, N: 768, K: 8192, transA: true, beta: 1 })).toBe('vec4:v128x64x16g8qk16');
    expect(plan(h200, { M: 2304, N: 768, K: 8192, transA: true, beta: 1 })).toBe('vec4:v128x64x16g8qk12');
    expect(plan(h200, { M: 3072, N: 768, K: 8192, transA: true, beta: 1 })).toBe('vec4:v128x64x16g8qk8');
  });
  it('runs plain products on matmul.wgsl unless an epilogue is fused, and Aᵀ·B on 128×256 tiles', () => {
    expect(plan(h200, { M: 4096, N: 4096, K: 4096 })).toBe('scalar:128x128x16s1pg8k1');
    expect(plan(h200, { M: 8192, N: 3072, K: 768 }, 0, true)).toBe('vec4:v128x128x16g8qk1');
    expect(plan(h200, { M: 2048, N: 2048, K: 64, batch: 12, transB: true })).toBe('vec4:v128x128x16g8qk1');
    expect(plan(h200, { M: 50304, N: 768, K: 8192, transA: true, beta: 1 })).toBe('vec4:v128x256x16g8qk1');
    expect(plan(h200, { M: 8192, N: 2304, K: 768, transB: true })).toBe('vec4:v128x128x16g8qk1');
  });
  it('takes matmul.wgsl for operands that are not 16-byte aligned', () => {
    expect(plan(h200, { M: 8192, N: 2304, K: 766, transB: true })).toMatch(/^scalar:/);
    expect(plan(h200, { M: 8192, N: 2304, K: 768, transB: true }, 8)).toMatch(/^scalar:/);
  });
});

describe('planMatmul on an H200, attention products (B·h matrices, T 2048, hd 64)', () => {
  it('splits K of each matrix of Pᵀ·dY and dSᵀ·Q over 128×64 tiles', () => {
    expect(plan(h200, { M: 2048, N: 64, K: 2048, batch: 12, transA: true })).toBe('vec4:v128x64x16g8qk4');
    expect(plan(h200, { M: 2048, N: 64, K: 2048, batch: 48, transA: true })).toBe('vec4:v128x64x16g8qk4');
  });
  it('splits K of dS·K and P·V too (plain batches with hd columns), and of strided batches', () => {
    expect(plan(h200, { M: 2048, N: 64, K: 2048, batch: 12 })).toBe('vec4:v128x64x16g8qk4');
    expect(plan(h200, { M: 2048, N: 64, K: 2048, batch: 48 })).toBe('vec4:v128x64x16g8qk4');
    expect(plan(h200, { M: 2048, N: 64, K: 2048, batch: 12, transA: true, strideA: 2048 * 2048 + 4 })).toBe(
      'vec4:v128x64x16g8qk4',
    );
  });
  it('leaves batches that already fill the GPU, or whose K is short, unsplit', () => {
    expect(plan(h200, { M: 2048, N: 128, K: 2048, batch: 64, transA: true })).toBe('vec4:v128x256x16g8qk1');
    expect(plan(h200, { M: 2048, N: 64, K: 512, batch: 12 })).toBe('vec4:v128x64x16g8qk1');
  });
});

describe('attention products with causal tile skipping (NeoX 125M: B·h 12, T 2048, hd 64)', () => {
  it('keep the plans of the same products without it', () => {
    for (const spec of Object.values(attentionProducts(12, 2048, 64)))
      expect(plan(h200, spec), JSON.stringify(spec)).toBe(plan(h200, { ...spec, causal: 'none' }));
    expect(plan(h200, attentionProducts(12, 2048, 64).keysGrad)).toBe('vec4:v128x64x16g8qk4');
  });
  it('a causal mode that does not exist is refused by name', () => {
    const bad = { M: 4, N: 4, K: 4, causal: 'upper' } as unknown as MatmulSpec;
    expect(() => resolveMatmulSpec(bad)).toThrow(
      /spec\.causal must be one of none, lowerOutput, lowerA, upperA, got upper/,
    );
  });
});

describe('batchedSplitProblem', () => {
  it('names what keeps a batched product from splitting K', () => {
    expect(batchedSplitProblem({ M: 64, N: 64, K: 512, batch: 2, transA: true }, 4)).toBeNull();
    expect(batchedSplitProblem({ M: 64, N: 64, K: 512, batch: 2 }, 4)).toBeNull();
    expect(batchedSplitProblem({ M: 64, N: 64, K: 512, batch: 20_000 }, 4)).toMatch(/20000·4 layers > 65535/);
    expect(batchedSplitProblem({ M: 4096, N: 4096, K: 512, batch: 64 }, 4)).toMatch(/overflow u32/);
  });
});

describe('planMatmul on SwiftShader', () => {
  it('takes matmul_direct.wgsl for every aligned product and never splits K', () => {
    expect(plan(swiftshader, { M: 768, N: 768, K: 8192, transA: true, beta: 1 })).toBe('direct:4x4k1');
    expect(plan(swiftshader, { M: 4096, N: 4096, K: 4096 })).toBe('direct:4x4k1');
  });
});

describe('splitKFor', () => {
  it('keeps at least 512 of K per split (256 on small products) and never splits batches', () => {
    expect(splitKFor({ M: 64, N: 64, K: 2048 }, SPLIT_TILES)).toBe(4);
    expect(splitKFor({ M: 64, N: 64, K: 1000 }, SPLIT_TILES)).toBe(3);
    expect(splitKFor({ M: 64, N: 64, K: 1024 }, SPLIT_TILES)).toBe(4);
    expect(splitKFor({ M: 64, N: 64, K: 500 }, SPLIT_TILES)).toBe(1);
    expect(splitKFor({ M: 2048, N: 768, K: 768 }, SPLIT_TILES)).toBe(1); // 192 tiles: not small
    expect(splitKFor({ M: 64, N: 64, K: 8192, batch: 2 }, SPLIT_TILES)).toBe(1);
  });
});

// y = x·Wᵀ of a layer with `out` outputs and `inp` inputs over `rows` rows: forward, input and weight gradient
const linearProducts = (rows: number, out: number, inp: number): MatmulSpec[] => [
  { M: rows, N: out, K: inp, transB: true },
  { M: rows, N: inp, K: out },
  { M: out, N: inp, K: rows, transA: true, beta: 1 },
];

describe('smallSplitProduct', () => {
  it('is none of NeoX 125M’s products at seq 2048 (their plans were measured before it existed)', () => {
    for (const micro of [1, 2, 4, 8]) {
      const rows = 2048 * micro;
      const products = [
        ...linearProducts(rows, 3 * 768, 768),
        ...linearProducts(rows, 768, 768),
        ...linearProducts(rows, 3072, 768),
        ...linearProducts(rows, 768, 3072),
        ...linearProducts(rows, 50304, 768),
      ];
      for (const p of products) expect(smallSplitProduct(p, SPLIT_TILES), JSON.stringify(p)).toBe(false);
    }
  });

  it('is every linear product of a TP2 rank of the 50M layouts model (bench/matmul-shapes.json m50tp2.*)', () => {
    const rows = 1024;
    const products = [
      ...linearProducts(rows, 768, 512),
      ...linearProducts(rows, 512, 256),
      ...linearProducts(rows, 1024, 512),
      ...linearProducts(rows, 512, 1024),
    ];
    for (const p of products) expect(smallSplitProduct(p, SPLIT_TILES), JSON.stringify(p)).toBe(true);
    expect(splitKFor(products[0], SPLIT_TILES)).toBe(2);
  });
});
