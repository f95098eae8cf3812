// LayerNorm or RMSNorm by the config's `norm`, as dispatches.
import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import { layernormBackward, layernormForward, layernormParamGrad } from '../gpu/kernels/layernorm';
import { rmsnormBackward, rmsnormForward, rmsnormParamGrad } from '../gpu/kernels/rmsnorm';
import type { ModelSpec } from './spec';

export interface NormParams {
  w: GpuTensor;
  b: GpuTensor | null;
  dw: GpuTensor;
  db: GpuTensor | null;
}

// inp, out: (N, C)  mean, rstd: (N)
export function normForward(
  ctx: GpuContext,
  s: ModelSpec,
  p: NormParams,
  inp: GpuTensor,
  out: GpuTensor,
  mean: GpuTensor,
  rstd: GpuTensor,
  N: number,
): Dispatch[] {
  if (s.norm === 'layernorm') return [layernormForward(ctx, inp, p.w, p.b!, out, mean, rstd, N, s.C, s.normEps)];
  return [rmsnormForward(ctx, inp, p.w, out, rstd, N, s.C, s.normEps)];
}

// dout, inp: (N, C)  dinp: += (N, C)
export function normBackward(
  ctx: GpuContext,
  s: ModelSpec,
  p: NormParams,
  dout: GpuTensor,
  inp: GpuTensor,
  mean: GpuTensor,
  rstd: GpuTensor,
  dinp: GpuTensor,
  N: number,
): Dispatch[] {
  if (s.norm === 'layernorm') {
    return [
      layernormParamGrad(ctx, dout, inp, mean, rstd, p.dw, p.db!, N, s.C),
      layernormBackward(ctx, dout, inp, p.w, mean, rstd, dinp, N, s.C),
    ];
  }
  return [
    rmsnormParamGrad(ctx, dout, inp, rstd, p.dw, N, s.C),
    rmsnormBackward(ctx, dout, inp, p.w, rstd, dinp, N, s.C),
  ];
}
