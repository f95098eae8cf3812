// RMSNorm (y = x·rsqrt(mean(x²) + eps)·w): forward, input gradient (accumulated into the
// residual gradient stream), weight gradient (accumulated).
import fwdSrc from '../../../shaders/rmsnorm_fwd.wgsl?raw';
import bwdSrc from '../../../shaders/rmsnorm_bwd.wgsl?raw';
import paramSrc from '../../../shaders/rmsnorm_param_grad.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectFinite, expectLength, expectNoAlias, expectPositiveInts } from './validate';
import { columnTiling, rowWorkgroup } from './workgroup';

/** inp, out: (N, C); weight: (C); rstd: (N) written for the backward */
export function rmsnormForward(
  ctx: GpuContext,
  inp: GpuTensor,
  weight: GpuTensor,
  out: GpuTensor,
  rstd: GpuTensor,
  N: number,
  C: number,
  eps: number,
): Dispatch {
  const k = 'rmsnormForward';
  expectPositiveInts(k, { N, C });
  expectFinite(k, { eps });
  for (const [name, t] of [
    ['inp', inp],
    ['out', out],
  ] as const)
    expectLength(k, name, t, N * C);
  expectLength(k, 'weight', weight, C);
  expectLength(k, 'rstd', rstd, N);
  expectNoAlias(k, { out, rstd }, { inp, weight });
  const WG = rowWorkgroup(ctx, C);
  const p = ctx.pipeline('rmsnorm_fwd', fwdSrc, { WG });
  return ctx.bind(
    k,
    p,
    [
      inp,
      weight,
      out,
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

/** dinp += ∂loss/∂inp. dout, inp, dinp: (N, C); weight: (C); rstd: (N) */
export function rmsnormBackward(
  ctx: GpuContext,
  dout: GpuTensor,
  inp: GpuTensor,
  weight: GpuTensor,
  rstd: GpuTensor,
  dinp: GpuTensor,
  N: number,
  C: number,
): Dispatch {
  const k = 'rmsnormBackward';
  expectPositiveInts(k, { N, C });
  for (const [name, t] of [
    ['dout', dout],
    ['inp', inp],
    ['dinp', dinp],
  ] as const)
    expectLength(k, name, t, N * C);
  expectLength(k, 'weight', weight, C);
  expectLength(k, 'rstd', rstd, N);
  expectNoAlias(k, { dinp }, { dout, inp, weight, rstd });
  const WG = rowWorkgroup(ctx, C);
  const p = ctx.pipeline('rmsnorm_bwd', bwdSrc, { WG });
  return ctx.bind(
    k,
    p,
    [
      dout,
      inp,
      weight,
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

/** dweight += Σ_rows dout·x·rstd. dout, inp: (N, C); rstd: (N); dweight: (C) */
export function rmsnormParamGrad(
  ctx: GpuContext,
  dout: GpuTensor,
  inp: GpuTensor,
  rstd: GpuTensor,
  dweight: GpuTensor,
  N: number,
  C: number,
): Dispatch {
  const k = 'rmsnormParamGrad';
  expectPositiveInts(k, { N, C });
  for (const [name, t] of [
    ['dout', dout],
    ['inp', inp],
  ] as const)
    expectLength(k, name, t, N * C);
  expectLength(k, 'rstd', rstd, N);
  expectLength(k, 'dweight', dweight, C);
  expectNoAlias(k, { dweight }, { dout, inp, rstd });
  const { WG, TX } = columnTiling(ctx);
  const p = ctx.pipeline('rmsnorm_param_grad', paramSrc, { WG, TX });
  return ctx.bind(
    k,
    p,
    [
      dout,
      inp,
      rstd,
      dweight,
      uniforms([
        ['u32', N],
        ['u32', C],
      ]),
    ],
    grid1d(Math.ceil(C / TX)),
  );
}
