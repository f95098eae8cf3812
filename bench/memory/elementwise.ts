import { add, addInto, biasAdd, biasGrad, copy, scale } from '../../src/gpu/kernels/elementwise';
import { FFN, HIDDEN, type MemCase, ROWS } from './case';

const n = ROWS * HIDDEN;
const shape = `(${ROWS}x${HIDDEN})`;
export const elementwiseCases: MemCase[] = [
  {
    name: `add ${shape}`,
    bytes: 12 * n,
    build: (ctx, t) => [add(ctx, t.f32([n], 'a'), t.f32([n], 'b'), t.f32([n], 'out'))],
  },
  { name: `addInto ${shape}`, bytes: 12 * n, build: (ctx, t) => [addInto(ctx, t.f32([n], 'acc'), t.f32([n], 'x'))] },
  { name: `copy ${shape}`, bytes: 8 * n, build: (ctx, t) => [copy(ctx, t.f32([n], 'src'), t.f32([n], 'dst'))] },
  { name: `scale ${shape}`, bytes: 8 * n, build: (ctx, t) => [scale(ctx, t.f32([n], 'x'), 1)] },
  {
    name: `biasAdd (${ROWS}x${FFN})`,
    bytes: 8 * ROWS * FFN,
    build: (ctx, t) => [biasAdd(ctx, t.f32([ROWS, FFN], 'y'), t.f32([FFN], 'bias'), ROWS, FFN)],
  },
  {
    name: `biasGrad (${ROWS}x${FFN})`,
    bytes: 4 * ROWS * FFN,
    build: (ctx, t) => [biasGrad(ctx, t.f32([ROWS, FFN], 'dy'), t.f32([FFN], 'dbias'), ROWS, FFN)],
  },
];
