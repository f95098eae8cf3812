// LayerNorm (y = (x - mean)·rstd·w + b, biased variance): forward, input gradient
// (accumulated into the residual gradient stream), parameter gradients (accumulated).
import fwdSrc from '../../../shaders/layernorm_fwd.wgsl?raw';
import bwdSrc from '../../../shaders/layernorm_bwd.wgsl?raw';
import paramSrc from '../../../shaders/layernorm_param_grad.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectFinite, expectLength, expectNoAlias, expectPositiveInts } from './validate';
import { columnTiling, rowWorkgroup } from './workgroup';

/** inp, out: (N, C); weight, bias: (C); mean, rstd: (N) written for the backward */
export function layernormForward(
  ctx: GpuContext,
  inp: GpuTensor,
  weight: GpuTensor,
  bias: GpuTensor,
  out: GpuTensor,
  mean: GpuTensor,
  rstd: GpuTensor,
  N: number,
  C: number,
  eps: number,
): Dispatch {
  const k = 'layernormForward';
  expectPositiveInts(k, { N, C });
  expectFinite(k, { eps });
  for (const [name, t] of [
    ['inp', inp],
    ['out', out],
  ] as const)
    expectLength(k, name, t, N * C);
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const)
    expectLength(k, name, t, C);
  for (const [name, t] of [
    ['mean', mean],
    ['rstd', rstd],
  ] as const)
    expectLength(k, name, t, N);
  expectNoAlias(k, { out, mean, rstd }, { inp, weight, bias });
  const WG = rowWorkgroup(ctx, C);
  const p = ctx.pipeline('layernorm_fwd', fwdSrc, { WG });
  return ctx.bind(
    k,
    p,
    [
      inp,
      weight,
      bias,
      out,
      mean,
      rstd,
      uniforms([
        ['u32', N],
        ['u32', C],
        ['f32', eps],
      ]),
    ],
    grid1d(N),
  );
}

/** dinp += ∂loss/∂inp. dout, inp, dinp: (N, C); weight: (C); mean, rstd: (N) */
export function layernormBackward(
  ctx: GpuContext,
  dout: GpuTensor,
  inp: GpuTensor,
  weight: GpuTensor,
  mean: GpuTensor,
  rstd: GpuTensor,
  dinp: GpuTensor,
  N: number,
  C: number,
): Dispatch {
  const k = 'layernormBackward';
  expectPositiveInts(k, { N, C });
  for (const [name, t] of [
    ['dout', dout],
    ['inp', inp],
    ['dinp', dinp],
  ] as const)
    expectLength(k, name, t, N * C);
  expectLength(k, 'weight', weight, C);
  for (const [name, t] of [
    ['mean', mean],
    ['rstd', rstd],
  ] as const)
    expectLength(k, name, t, N);
  expectNoAlias(k, { dinp }, { dout, inp, weight, mean, rstd });
  const WG = rowWorkgroup(ctx, C);
  const p = ctx.pipeline('layernorm_bwd', bwdSrc, { WG });
  return ctx.bind(
    k,
    p,
    [
      dout,
      inp,
      weight,
      mean,
      rstd,
      dinp,
      uniforms([
        ['u32', N],
        ['u32', C],
      ]),
    ],
    grid1d(N),
  );
}

/** dweight += Σ_rows dout·xhat, dbias += Σ_rows dout. dout, inp: (N, C); mean, rstd: (N); dweight, dbias: (C) */
export function layernormParamGrad(
  ctx: GpuContext,
  dout: GpuTensor,
  inp: GpuTensor,
  mean: GpuTensor,
  rstd: GpuTensor,
  dweight: GpuTensor,
  dbias: GpuTensor,
  N: number,
  C: number,
): Dispatch {
  const k = 'layernormParamGrad';
  expectPositiveInts(k, { N, C });
  for (const [name, t] of [
    ['dout', dout],
    ['inp', inp],
  ] as const)
    expectLength(k, name, t, N * C);
  for (const [name, t] of [
    ['mean', mean],
    ['rstd', rstd],
  ] as const)
    expectLength(k, name, t, N);
  for (const [name, t] of [
    ['dweight', dweight],
    ['dbias', dbias],
  ] as const)
    expectLength(k, name, t, C);
  expectNoAlias(k, { dweight, dbias }, { dout, inp, mean, rstd });
  const { WG, TX } = columnTiling(ctx);
  const p = ctx.pipeline('layernorm_param_grad', paramSrc, { WG, TX });
  return ctx.bind(
    k,
    p,
    [
      dout,
      inp,
      mean,
      rstd,
      dweight,
      dbias,
      uniforms([
        ['u32', N],
        ['u32', C],
      ]),
    ],
    grid1d(Math.ceil(C / TX)),
  );
}
