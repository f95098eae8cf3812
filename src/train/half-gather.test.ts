// ZeRO with bf16 over two replicas (WebGPU through Dawn; both in this process over loopback): the
// parameters are all-gathered in 16 bits. ZeRO-1: what each rank holds after an update must be
// consistent:
//   - every replica's packed working copy is the same, bit for bit (a rank's own shard, cast on
//     its GPU, equals what the other rank decoded from the wire: both round to nearest even);
//   - a rank's own shard of the f32 master stays exact, the others' shards hold the owners'
//     values rounded to bf16;
//   - readAllParams (what a checkpoint saves) is the owners' exact f32 shards, on every rank.
// ZeRO-3: the window a forward reads holds the f32 shards rounded to bf16, bit for bit, on both
// ranks (each rank rounds its own part as the wire rounds the other's).
import { describe, expect, it } from 'vitest';
import { createLoopbackWorld } from '../comm/loopback';
import { firstBitDifference } from '../comm/reference';
import { decodeHalf, encodeHalf } from '../comm/compress/half-wire';
import { resolveConfig } from '../config/resolve';
import type { Tokenizer } from '../data/tokenizer';
import { sharedTestContext } from '../gpu/test-context';
import { initFlat } from '../model/init';
import { REST } from '../model/param-window';
import { ProgramBuilder } from '../model/program';
import { syncAndUpdate } from './distributed/grad-sync';
import { directComm } from './distributed/rank-comm';
import { mixedPrecisionFor } from './precision';
import { adamHyper, lrSchedule, modelSpec, type TrainConfig } from './setup';
import { Trainer } from './trainer';

const config = resolveConfig([
  {
    file: 'test',
    data: {
      num_layers: 2,
      hidden_size: 32,
      num_attention_heads: 4,
      seq_length: 16,
      train_micro_batch_size_per_gpu: 2,
      train_iters: 1,
      tokenizer_type: 'CharLevelTokenizer',
      optimizer: { type: 'Adam', params: { lr: 3e-3 } },
      hidden_dropout: 0,
      attention_dropout: 0,
      bf16: { enabled: true },
    },
  },
]).config as unknown as TrainConfig;

const spec = modelSpec(config, { vocabSize: 256 } as Tokenizer);
const dpGroup = { name: 'dp[0,1]', ranks: [0, 1] };
const N = 2 * spec.T;
const batch = (k: number) => ({
  tokens: Int32Array.from({ length: N }, (_, i) => (i * (29 + k) + 3 * k) % spec.V),
  targets: Int32Array.from({ length: N }, (_, i) => (i * (29 + k) + 3 * k + 1) % spec.V),
});
const rounded = (x: Float32Array) => decodeHalf('bf16', encodeHalf('bf16', x), x.length);

async function replicas(stage: number) {
  const ctx = await sharedTestContext();
  const loop = createLoopbackWorld(2);
  return loop.transports.map((tr, rank) => {
    const comm = directComm(tr);
    const t = new Trainer(ctx, {
      spec,
      microBatchSize: 2,
      gradAccumSteps: 1,
      adam: adamHyper(config),
      schedule: lrSchedule(config),
      mixed: mixedPrecisionFor(config)!,
      zero: {
        shards: 2,
        index: rank,
        stage,
        gather: (piece, slice, wire) => comm.allGather(piece, { ...dpGroup, slice, ...(wire ? { wire } : {}) }),
      },
    });
    return { t, comm, ctx };
  });
}

describe('ZeRO parameters gathered in bf16', { timeout: 120_000 }, () => {
  it('ZeRO-1: replicas hold the same working copy; own master shards stay f32; readAllParams is exact', async () => {
    const trainers = await replicas(1);
    const { ctx } = trainers[0];
    expect(trainers[0].t.paramWire).toBe('bf16');
    await Promise.all(
      trainers.map(async ({ t, comm }, rank) => {
        t.loadParams(initFlat(t.model.layout, config.seed));
        const S = t.optRange.end - t.optRange.start;
        t.loadMoments(new Float32Array(S), new Float32Array(S));
        t.beginStep();
        t.upload(batch(rank));
        await t.run(new ProgramBuilder().append(t.forwardOf(0)).append(t.model.slots[0].backward).steps);
        await syncAndUpdate(t, {
          comm,
          dpGroup,
          tiedEmbeddingGroup: null,
          zero: true,
          normGroups: [dpGroup],
          half: 'bf16',
        });
        await t.evaluate([batch(2)]); // casts the master into the working copy
      }),
    );
    const packed = await Promise.all(trainers.map(({ t }) => ctx.read(t.model.halfWeights!.packed)));
    expect(firstBitDifference(packed[1], packed[0])).toBe(-1);
    const masters = await Promise.all(trainers.map(({ t }) => t.readParams()));
    const exact = new Float32Array(masters[0].length);
    trainers.forEach(({ t }, owner) => {
      const { start, end } = t.optRange;
      const end1 = Math.min(end, masters[0].length);
      const own = masters[owner].subarray(start, end1);
      exact.set(own, start);
      const other = masters[1 - owner].subarray(start, end1);
      expect(firstBitDifference(other, rounded(own)), `shard ${owner} on the other rank`).toBe(-1);
      expect(firstBitDifference(other, own), `shard ${owner} is more than bf16`).toBeGreaterThanOrEqual(0);
    });
    const all = await Promise.all(trainers.map(({ t }) => t.readAllParams()));
    for (const a of all) expect(firstBitDifference(a, exact)).toBe(-1);
  });

  it('ZeRO-3: the window a forward reads is the f32 shards rounded to bf16, the same on both replicas', async () => {
    const trainers = await replicas(3);
    const { ctx } = trainers[0];
    expect(trainers[0].t.paramWire).toBe('bf16');
    const { window } = trainers[0].t.model;
    const held = await Promise.all(
      trainers.map(async ({ t }) => {
        t.loadParams(initFlat(t.model.layout, config.seed));
        await t.evaluate([batch(0)]); // leaves the last layer and the rest (embedding, norm, head) in the window
        return ctx.read({ buffer: t.model.params, offset: 0, length: window.length, shape: [window.length] });
      }),
    );
    const all = await Promise.all(trainers.map(({ t }) => t.readAllParams()));
    expect(firstBitDifference(all[1], all[0])).toBe(-1);
    const runs = window.runs.filter((r) => r.unit === REST || r.unit === spec.L - 1);
    expect(runs.length).toBeGreaterThan(2);
    for (const r of runs) {
      const want = rounded(all[0].subarray(r.start, Math.min(r.end, all[0].length)));
      for (const h of held) expect(firstBitDifference(h.subarray(r.at, r.at + want.length), want)).toBe(-1);
    }
  });
});
