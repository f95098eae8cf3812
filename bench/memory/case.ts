// A memory-bound kernel benchmark: `bytes` is the least traffic the kernel must move
// (each input read once, each output written once; "+=" outputs read and written).
import type { GpuContext } from '../../src/gpu/context';
import type { Dispatch } from '../../src/gpu/dispatch';
import type { GpuTensor } from '../../src/gpu/tensor';
import { patternTensor } from '../fill';

export interface MemCase {
  name: string;
  bytes: number;
  /** builds the dispatches; every tensor it makes goes through `t` so the runner can free it */
  build(ctx: GpuContext, t: TensorMaker): Dispatch[];
}

export interface TensorMaker {
  f32(shape: number[], name: string): GpuTensor;
  i32(values: Int32Array, name: string): GpuTensor;
}

export function tensorMaker(ctx: GpuContext, made: GpuTensor[]): TensorMaker {
  return {
    f32(shape, name) {
      const t = patternTensor(
        ctx,
        shape.reduce((a, b) => a * b, 1),
        name,
      );
      made.push({ ...t, shape });
      return { ...t, shape };
    },
    i32(values, name) {
      const t = ctx.tensorFrom(values, [values.length], name);
      made.push(t);
      return t;
    },
  };
}

// NeoX 125M activations: B·T = 8192 rows, hidden 768, MLP 3072, vocab 50304
export const ROWS = 8192,
  HIDDEN = 768,
  FFN = 3072,
  VOCAB = 50304;
