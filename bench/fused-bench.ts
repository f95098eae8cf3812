// Elementwise work fused into the matmul epilogue at NeoX 125M's shapes (B·T = 8192 rows,
// hidden 768, MLP 3072), against the same work as separate dispatches: the MLP up projection
// with bias and GELU, the MLP down projection's input gradient through the GELU, and a linear
// layer with its bias. Time of each and the largest difference between the two results.
import type { GpuContext } from '../src/gpu/context';
import type { Dispatch } from '../src/gpu/dispatch';
import { biasAdd } from '../src/gpu/kernels/elementwise';
import { geluBackward, geluForward } from '../src/gpu/kernels/gelu';
import { matmul } from '../src/gpu/kernels/matmul';
import type { GpuTensor } from '../src/gpu/tensor';
import { patternTensor } from './fill';
import { FFN, HIDDEN, ROWS } from './memory/case';
import type { Timer, TimeOptions } from './timing';

export interface FusedResult {
  name: string;
  separateMs?: number;
  fusedMs?: number;
  /** separate / fused time */
  speedup?: number;
  dispatches?: [number, number];
  maxRelDiff?: number;
  error?: string;
}

async function relDiff(ctx: GpuContext, a: GpuTensor, b: GpuTensor): Promise<number> {
  const [x, y] = [await ctx.read(a), await ctx.read(b)];
  let d = 0,
    r = 0;
  for (let i = 0; i < x.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    r = Math.max(r, Math.abs(y[i]));
  }
  return d / Math.max(r, 1e-30);
}

export async function benchFused(ctx: GpuContext, timer: Timer, opts: TimeOptions = {}): Promise<FusedResult[]> {
  const made: GpuTensor[] = [];
  const t = (len: number, name: string) => {
    const x = patternTensor(ctx, len, name);
    made.push(x);
    return x;
  };
  const out: FusedResult[] = [];
  const compare = async (
    name: string,
    separate: Dispatch[],
    fused: Dispatch[],
    outs: Array<[GpuTensor, GpuTensor]>,
  ) => {
    const r: FusedResult = { name, dispatches: [separate.length, fused.length] };
    try {
      ctx.run(separate);
      ctx.run(fused);
      r.maxRelDiff = 0;
      for (const [a, b] of outs) r.maxRelDiff = Math.max(r.maxRelDiff, await relDiff(ctx, a, b));
      r.separateMs = (await timer.time(separate, opts)).ms;
      r.fusedMs = (await timer.time(fused, opts)).ms;
      r.speedup = r.separateMs / r.fusedMs;
    } catch (e) {
      r.error = (e as Error).message;
    }
    out.push(r);
  };
  try {
    const x = t(ROWS * HIDDEN, 'x'),
      wUp = t(FFN * HIDDEN, 'mlp.up.weight'),
      bUp = t(FFN, 'mlp.up.bias');
    const [h1, g1, h2, g2] = [
      t(ROWS * FFN, 'h'),
      t(ROWS * FFN, 'g'),
      t(ROWS * FFN, 'h.fused'),
      t(ROWS * FFN, 'g.fused'),
    ];
    const up = { M: ROWS, N: FFN, K: HIDDEN, transB: true };
    await compare(
      `mlp_up fwd + bias + gelu (${ROWS}x${FFN}x${HIDDEN})`,
      [...matmul(ctx, x, wUp, h1, up), biasAdd(ctx, h1, bUp, ROWS, FFN), geluForward(ctx, h1, g1)],
      matmul(ctx, x, wUp, h2, up, { kind: 'biasGelu', bias: bUp, gelu: g2 }),
      [
        [h2, h1],
        [g2, g1],
      ],
    );
    const dy = t(ROWS * HIDDEN, 'dy'),
      wDown = t(HIDDEN * FFN, 'mlp.down.weight');
    const [dg, dh1, dh2] = [t(ROWS * FFN, 'dg'), t(ROWS * FFN, 'dh'), t(ROWS * FFN, 'dh.fused')];
    const down = { M: ROWS, N: FFN, K: HIDDEN };
    await compare(
      `mlp_down dX + gelu backward (${ROWS}x${FFN}x${HIDDEN})`,
      [...matmul(ctx, dy, wDown, dg, down), geluBackward(ctx, h1, dg, dh1)],
      matmul(ctx, dy, wDown, dh2, down, { kind: 'geluBackward', preGelu: h1 }),
      [[dh2, dh1]],
    );
    const wQkv = t(3 * HIDDEN * HIDDEN, 'qkv.weight'),
      bQkv = t(3 * HIDDEN, 'qkv.bias');
    const [y1, y2] = [t(ROWS * 3 * HIDDEN, 'qkv'), t(ROWS * 3 * HIDDEN, 'qkv.fused')];
    const qkv = { M: ROWS, N: 3 * HIDDEN, K: HIDDEN, transB: true };
    await compare(
      `qkv fwd + bias (${ROWS}x${3 * HIDDEN}x${HIDDEN})`,
      [...matmul(ctx, x, wQkv, y1, qkv), biasAdd(ctx, y1, bQkv, ROWS, 3 * HIDDEN)],
      matmul(ctx, x, wQkv, y2, qkv, { kind: 'bias', bias: bQkv }),
      [[y2, y1]],
    );
  } finally {
    for (const x of made) x.buffer.destroy();
  }
  return out;
}
