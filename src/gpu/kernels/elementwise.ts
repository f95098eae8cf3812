// Elementwise kernels: residual adds, copies, bias add and its gradient, scaling.
import addIntoSrc from '../../../shaders/add_into.wgsl?raw';
import addSrc from '../../../shaders/add.wgsl?raw';
import copySrc from '../../../shaders/copy.wgsl?raw';
import biasAddSrc from '../../../shaders/bias_add.wgsl?raw';
import biasGradSrc from '../../../shaders/bias_grad.wgsl?raw';
import scaleSrc from '../../../shaders/scale.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectFinite, expectLength, expectNoAlias, expectPositiveInts } from './validate';
import { columnTiling, linearWorkgroup } from './workgroup';

function linear(
  ctx: GpuContext,
  label: string,
  code: string,
  bindings: GpuTensor[],
  extra: Array<['u32' | 'f32', number]>,
  n: number,
): Dispatch {
  const WG = linearWorkgroup(ctx);
  return ctx.bind(
    label,
    ctx.pipeline(label, code, { WG }),
    [...bindings, uniforms([['u32', n], ...extra])],
    grid1d(Math.ceil(n / WG)),
  );
}

/** acc += x. acc, x: (N) */
export function addInto(ctx: GpuContext, acc: GpuTensor, x: GpuTensor): Dispatch {
  expectLength('addInto', 'x', x, acc.length);
  expectNoAlias('addInto', { acc }, { x });
  return linear(ctx, 'add_into', addIntoSrc, [acc, x], [], acc.length);
}

/** out = a + b. a, b, out: (N) */
export function add(ctx: GpuContext, a: GpuTensor, b: GpuTensor, out: GpuTensor): Dispatch {
  expectLength('add', 'b', b, a.length);
  expectLength('add', 'out', out, a.length);
  expectNoAlias('add', { out }, { a, b });
  return linear(ctx, 'add', addSrc, [a, b, out], [], a.length);
}

/** dst = src. src, dst: (N) */
export function copy(ctx: GpuContext, src: GpuTensor, dst: GpuTensor): Dispatch {
  expectLength('copy', 'dst', dst, src.length);
  expectNoAlias('copy', { dst }, { src });
  return linear(ctx, 'copy', copySrc, [src, dst], [], src.length);
}

/** y[r, c] += bias[c]. y: (rows, cols), bias: (cols) */
export function biasAdd(ctx: GpuContext, y: GpuTensor, bias: GpuTensor, rows: number, cols: number): Dispatch {
  expectPositiveInts('biasAdd', { rows, cols });
  expectLength('biasAdd', 'y', y, rows * cols);
  expectLength('biasAdd', 'bias', bias, cols);
  expectNoAlias('biasAdd', { y }, { bias });
  return linear(ctx, 'bias_add', biasAddSrc, [y, bias], [['u32', cols]], rows * cols);
}

/** dbias[c] += Σ_r dy[r, c] (deterministic order). dy: (rows, cols), dbias: (cols) */
export function biasGrad(ctx: GpuContext, dy: GpuTensor, dbias: GpuTensor, rows: number, cols: number): Dispatch {
  expectPositiveInts('biasGrad', { rows, cols });
  expectLength('biasGrad', 'dy', dy, rows * cols);
  expectLength('biasGrad', 'dbias', dbias, cols);
  expectNoAlias('biasGrad', { dbias }, { dy });
  const { WG, TX } = columnTiling(ctx);
  const p = ctx.pipeline('bias_grad', biasGradSrc, { WG, TX });
  return ctx.bind(
    'bias_grad',
    p,
    [
      dy,
      dbias,
      uniforms([
        ['u32', rows],
        ['u32', cols],
      ]),
    ],
    grid1d(Math.ceil(cols / TX)),
  );
}

/** x *= factor, in place. x: (N) */
export function scale(ctx: GpuContext, x: GpuTensor, factor: number): Dispatch {
  expectFinite('scale', { factor });
  return linear(ctx, 'scale', scaleSrc, [x], [['f32', factor]], x.length);
}
