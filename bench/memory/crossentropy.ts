import { crossEntropyBackward, crossEntropyForward } from '../../src/gpu/kernels/crossentropy';
import { randint } from '../../src/util/rng';
import { type MemCase, ROWS as N, VOCAB as V } from './case';

const shape = `(${N}x${V})`;
export const crossEntropyCases: MemCase[] = [
  {
    name: `crossEntropyForward ${shape}`,
    bytes: 4 * N * V + 12 * N,
    build: (ctx, t) => [
      crossEntropyForward(
        ctx,
        t.f32([N, V], 'logits'),
        t.i32(randint(N, V, 7), 'targets'),
        t.f32([N], 'losses'),
        t.f32([N], 'lse'),
        N,
        V,
      ),
    ],
  },
  {
    name: `crossEntropyBackward ${shape}`,
    bytes: 8 * N * V + 8 * N,
    build: (ctx, t) => [
      crossEntropyBackward(
        ctx,
        t.f32([N, V], 'logits'),
        t.i32(randint(N, V, 8), 'targets'),
        t.f32([N], 'lse'),
        t.f32([N, V], 'dlogits'),
        N,
        V,
        1 / N,
      ),
    ],
  },
];
