import { geluBackward, geluForward } from '../../src/gpu/kernels/gelu';
import { FFN, type MemCase, ROWS } from './case';

const n = ROWS * FFN;
export const geluCases: MemCase[] = [
  {
    name: `gelu_fwd (${ROWS}x${FFN})`,
    bytes: 8 * n,
    build: (ctx, t) => [geluForward(ctx, t.f32([n], 'inp'), t.f32([n], 'out'))],
  },
  {
    name: `gelu_bwd (${ROWS}x${FFN})`,
    bytes: 12 * n,
    build: (ctx, t) => [geluBackward(ctx, t.f32([n], 'inp'), t.f32([n], 'dout'), t.f32([n], 'dinp'))],
  },
];
