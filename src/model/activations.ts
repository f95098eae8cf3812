// Activation and scratch buffers of one rank's GPT for a micro-batch of B×T tokens.
// Saved per layer for the backward pass; backward scratch is shared across layers.

import type { GpuContext } from '../gpu/context';
import type { GpuTensor } from '../gpu/tensor';
import type { ModelSpec } from './spec';

export interface LayerActs {
  x: GpuTensor;        // (N, C) residual stream entering the layer
  ln1: GpuTensor;      // (N, C)
  ln1Mean: GpuTensor;  // (N)
  ln1Rstd: GpuTensor;  // (N)
  qkv: GpuTensor;      // (N, 3C)
  q: GpuTensor;        // (B, H, T, hd)
  k: GpuTensor;        // (B, H, T, hd)
  v: GpuTensor;        // (B, H, T, hd)
  att: GpuTensor;      // (B*H, T, T) softmax probabilities
  attDrop: GpuTensor | null; // (B*H, T, T) after attention dropout
  yh: GpuTensor;       // (B, H, T, hd)
  y: GpuTensor;        // (N, C) heads merged
  attnOut: GpuTensor;  // (N, C) after the dense projection (+ dropout)
  xMid: GpuTensor;     // (N, C) x + attnOut (sequential residual only)
  ln2: GpuTensor;      // (N, C)
  ln2Mean: GpuTensor;  // (N)
  ln2Rstd: GpuTensor;  // (N)
  h: GpuTensor;        // (N, F) before GELU
  g: GpuTensor;        // (N, F) after GELU
  mlpOut: GpuTensor;   // (N, C)
}

export interface Acts {
  tokens: GpuTensor;   // i32 (N)
  targets: GpuTensor;  // i32 (N)
  buckets: GpuTensor;  // i32 bucketTokens(tokens)
  layers: LayerActs[];
  xFinal: GpuTensor;   // (N, C) output of the last layer
  lnf: GpuTensor;      // (N, C)
  lnfMean: GpuTensor;  // (N)
  lnfRstd: GpuTensor;  // (N)
  logits: GpuTensor;   // (N, V)
  losses: GpuTensor;   // (N)
  lse: GpuTensor;      // (N)
  // backward scratch
  dx: GpuTensor;       // (N, C) gradient of the residual stream
  dxSaved: GpuTensor;  // (N, C) copy of dx for the parallel (GPT-J) residual
  dBranch: GpuTensor;  // (N, C) gradient of a branch output (dropout applied)
  dln: GpuTensor;      // (N, C)
  dqkv: GpuTensor;     // (N, 3C)
  dq: GpuTensor; dk: GpuTensor; dv: GpuTensor; // (B, H, T, hd)
  datt: GpuTensor;     // (B*H, T, T)
  dyh: GpuTensor;      // (B, H, T, hd)
  dy: GpuTensor;       // (N, C)
  dh: GpuTensor;       // (N, F)
  dg: GpuTensor;       // (N, F)
  dlogits: GpuTensor;  // (N, V)
  dropSeed: GpuTensor; // u32 (1) per-step dropout seed
}

export function allocActs(ctx: GpuContext, s: ModelSpec, B: number, bucketLen: number, numLayers = s.L, tag = ''): Acts {
  const T = s.T, N = B * T, C = s.C, F = s.F, hd = s.hd, H = s.H;
  const t = (name: string, ...shape: number[]) => ctx.tensor(shape, tag + name);
  const layers: LayerActs[] = [];
  for (let l = 0; l < numLayers; l++) {
    const p = `L${l}.`;
    layers.push({
      x: t(p + 'x', N, C), ln1: t(p + 'ln1', N, C), ln1Mean: t(p + 'ln1Mean', N), ln1Rstd: t(p + 'ln1Rstd', N),
      qkv: t(p + 'qkv', N, 3 * C), q: t(p + 'q', B, H, T, hd), k: t(p + 'k', B, H, T, hd), v: t(p + 'v', B, H, T, hd),
      att: t(p + 'att', B * H, T, T), attDrop: s.attentionDropout > 0 ? t(p + 'attDrop', B * H, T, T) : null,
      yh: t(p + 'yh', B, H, T, hd), y: t(p + 'y', N, C), attnOut: t(p + 'attnOut', N, C), xMid: t(p + 'xMid', N, C),
      ln2: t(p + 'ln2', N, C), ln2Mean: t(p + 'ln2Mean', N), ln2Rstd: t(p + 'ln2Rstd', N),
      h: t(p + 'h', N, F), g: t(p + 'g', N, F), mlpOut: t(p + 'mlpOut', N, C),
    });
  }
  return {
    tokens: t('tokens', N), targets: t('targets', N), buckets: t('buckets', bucketLen), layers,
    xFinal: t('xFinal', N, C), lnf: t('lnf', N, C), lnfMean: t('lnfMean', N), lnfRstd: t('lnfRstd', N),
    logits: t('logits', N, s.V), losses: t('losses', N), lse: t('lse', N),
    dx: t('dx', N, C), dxSaved: t('dxSaved', N, C), dBranch: t('dBranch', N, C), dln: t('dln', N, C),
    dqkv: t('dqkv', N, 3 * C), dq: t('dq', B, H, T, hd), dk: t('dk', B, H, T, hd), dv: t('dv', B, H, T, hd),
    datt: t('datt', B * H, T, T), dyh: t('dyh', B, H, T, hd), dy: t('dy', N, C), dh: t('dh', N, F), dg: t('dg', N, F),
    dlogits: t('dlogits', N, s.V), dropSeed: t('dropSeed', 4),
  };
}
