// The sequence-parallel talk steps of a Program, run by runProgram on two TP ranks over the
// loopback transport and the real ring collectives; GPU buffers are host arrays here (no
// dispatches in these programs, so only reads and writes reach the "device").
import { describe, expect, it } from 'vitest';
import { createLoopbackWorld } from '../comm/loopback';
import type { GpuContext } from '../gpu/context';
import type { GpuTensor } from '../gpu/tensor';
import { directComm } from '../train/distributed/rank-comm';
import { tpCollectives } from '../train/distributed/placement';
import { ProgramBuilder, type TpCollectives } from './program';
import { runProgram } from './run-program';
import { assembleSequence } from './sequence-parallel';

function hostContext(): { ctx: GpuContext; tensor: (n: number, fill?: ArrayLike<number>) => GpuTensor } {
  const mem = new Map<GPUBuffer, Float32Array>();
  const view = (t: GpuTensor) => mem.get(t.buffer)!.subarray(t.offset / 4, t.offset / 4 + t.length);
  const ctx = {
    device: { createCommandEncoder: () => ({ finish: () => ({}) }), queue: { submit: () => {} } },
    readMany: async (ts: GpuTensor[]) => ts.map((t) => view(t).slice().buffer),
    readInto: async (t: GpuTensor, dst: Float32Array) => dst.set(view(t)),
    write: (t: GpuTensor, data: Float32Array) => view(t).set(data),
  } as unknown as GpuContext;
  const tensor = (n: number, fill?: ArrayLike<number>): GpuTensor => {
    const buffer = {} as GPUBuffer;
    mem.set(buffer, fill ? Float32Array.from(fill) : new Float32Array(n));
    return { buffer, offset: 0, length: n, shape: [n], name: 't' };
  };
  return { ctx, tensor };
}

/** Like the worker bridge: each call moves (detaches) the buffer it is given. */
function moving(c: TpCollectives): TpCollectives {
  const take = (a: Float32Array) => new Float32Array(structuredClone(a.buffer, { transfer: [a.buffer] }));
  return {
    size: c.size,
    sum: (a, what) => c.sum(take(a), what),
    gather: (a, what) => c.gather(take(a), what),
    reduceScatter: (a, what) => c.reduceScatter(take(a), what),
  };
}

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i) * 10);

describe('sequence-parallel program steps on two TP ranks', () => {
  const [B, T, C, tp] = [2, 4, 3, 2];
  const N = B * T * C,
    n = N / tp;

  it('seqGather puts every rank’s positions in place; seqReduceScatter leaves each its rows of the sum', async () => {
    const world = createLoopbackWorld(tp);
    const group = { name: 'tp[0,1]', ranks: [0, 1] };
    const locals = [values(n, 1), values(n, 2)];
    const seconds = [values(2 * n, 3), values(2 * n, 4)]; // a second tensor of 2C columns, gathered in the same step
    const partials = [values(N, 5), values(N, 6)];
    const results = await Promise.all(
      [0, 1].map(async (r) => {
        const { ctx, tensor } = hostContext();
        const [local, full, local2, full2] = [
          tensor(n, locals[r]),
          tensor(N),
          tensor(2 * n, seconds[r]),
          tensor(2 * N),
        ];
        const [partial, mine] = [tensor(N, partials[r]), tensor(n)];
        const b = new ProgramBuilder()
          .seqGather(
            [
              { local, full },
              { local: local2, full: full2 },
            ],
            B,
            T,
            'x',
          )
          .seqReduceScatter(partial, mine, B, T, 'y');
        await runProgram(ctx, b.steps, moving(tpCollectives(directComm(world.transports[r]), group)));
        const read = async (t: GpuTensor) => new Float32Array((await ctx.readMany([t]))[0]);
        return { full: await read(full), full2: await read(full2), mine: await read(mine) };
      }),
    );
    const sum = partials[0].map((v, i) => v + partials[1][i]);
    for (const [r, got] of results.entries()) {
      expect(got.full).toEqual(assembleSequence(locals, B, T));
      expect(got.full2).toEqual(assembleSequence(seconds, B, T));
      // rank r's positions [r·T/2, (r+1)·T/2) of each sample
      const rows = Array.from({ length: B }, (_, s) =>
        Array.from(sum.subarray((s * T + (r * T) / 2) * C, (s * T + ((r + 1) * T) / 2) * C)),
      ).flat();
      expect(Array.from(got.mine)).toEqual(rows);
    }
  });
});
