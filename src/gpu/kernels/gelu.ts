import fwd from '../../../shaders/gelu_fwd.wgsl?raw';
import bwd from '../../../shaders/gelu_bwd.wgsl?raw';
import bwdInPlace from '../../../shaders/gelu_bwd_inplace.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';

const WG = 256;

/** out = gelu(inp), elementwise */
export function geluForward(ctx: GpuContext, inp: GpuTensor, out: GpuTensor): Dispatch {
  const n = inp.length;
  return ctx.bind(
    'gelu_fwd',
    ctx.pipeline('gelu_fwd', fwd, { WG }),
    [inp, out, uniforms([['u32', n]])],
    grid1d(Math.ceil(n / WG)),
  );
}

/** dinp = dout * gelu'(inp) (overwrites dinp) */
export function geluBackward(ctx: GpuContext, inp: GpuTensor, dout: GpuTensor, dinp: GpuTensor): Dispatch {
  const n = inp.length;
  return ctx.bind(
    'gelu_bwd',
    ctx.pipeline('gelu_bwd', bwd, { WG }),
    [inp, dout, dinp, uniforms([['u32', n]])],
    grid1d(Math.ceil(n / WG)),
  );
}

/** g = g * gelu'(inp), in place */
export function geluBackwardInPlace(ctx: GpuContext, inp: GpuTensor, g: GpuTensor): Dispatch {
  const n = inp.length;
  if (g.length < n) throw new Error(`gelu_bwd_inplace: ${g.name ?? 'g'} holds ${g.length} elements, inp ${n}`);
  return ctx.bind(
    'gelu_bwd_inplace',
    ctx.pipeline('gelu_bwd_inplace', bwdInPlace, { WG }),
    [inp, g, uniforms([['u32', n]])],
    grid1d(Math.ceil(n / WG)),
  );
}
