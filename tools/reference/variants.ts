// The tiny GPTs whose numbers are checked against PyTorch: shapes chosen so that no size is
// a multiple of a tile (T 13, hd 12, V 96, F 176), in two architecture variants.
import type { AdamHyper } from '../../src/gpu/kernels/optimizer';
import type { ModelSpec } from '../../src/model/spec';
import { randint } from '../../src/util/rng';

export interface ParityVariant {
  name: string;
  spec: ModelSpec;
  B: number;
  steps: number;
  lr: number;
  adam: AdamHyper;
}

const common: Omit<ModelSpec, 'norm' | 'normEps' | 'posEmb' | 'rotaryDims' | 'tied' | 'parallelResidual'> = {
  V: 96,
  C: 48,
  L: 2,
  H: 4,
  hd: 12,
  F: 176,
  T: 13,
  maxPos: 32,
  rotaryBase: 10000,
  hiddenDropout: 0,
  attentionDropout: 0,
  initStd: 0.08,
  initMethod: 'normal',
  outputInitMethod: 'scaled_normal',
  seed: 1234,
};

const adam: AdamHyper = { beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1, maxGradNorm: 1.0 };

export const PARITY_VARIANTS: ParityVariant[] = [
  {
    name: 'layernorm-learned',
    spec: {
      ...common,
      norm: 'layernorm',
      normEps: 1e-5,
      posEmb: 'learned',
      rotaryDims: 0,
      tied: true,
      parallelResidual: false,
    },
    B: 3,
    steps: 10,
    lr: 3e-3,
    adam,
  },
  {
    name: 'rmsnorm-rotary',
    spec: {
      ...common,
      norm: 'rmsnorm',
      normEps: 1e-8,
      posEmb: 'rotary',
      rotaryDims: 8,
      tied: false,
      parallelResidual: true,
    },
    B: 3,
    steps: 10,
    lr: 3e-3,
    adam,
  },
];

/** The fixed batch: tokens and next-token targets, (B*T) each. */
export function parityBatch(v: ParityVariant): { tokens: Int32Array; targets: Int32Array } {
  const n = v.B * v.spec.T;
  const seq = randint(n + v.B, v.spec.V, 99);
  const tokens = new Int32Array(n),
    targets = new Int32Array(n);
  for (let b = 0; b < v.B; b++) {
    for (let t = 0; t < v.spec.T; t++) {
      tokens[b * v.spec.T + t] = seq[b * (v.spec.T + 1) + t];
      targets[b * v.spec.T + t] = seq[b * (v.spec.T + 1) + t + 1];
    }
  }
  return { tokens, targets };
}
