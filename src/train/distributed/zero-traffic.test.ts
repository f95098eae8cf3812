// ZeRO stages 1–3 over two data-parallel replicas (WebGPU through Dawn in Node; both ranks in this
// process over the loopback transport): the same losses, and the traffic each stage pays for its
// memory (stage 2 reduce-scatters every micro-batch's gradients, stage 3 also gathers every layer's
// parameters before its forward and again before its backward).
import { describe, expect, it } from 'vitest';
import { createLoopbackWorld } from '../../comm/loopback';
import { resolveConfig } from '../../config/resolve';
import { defaultCorpus } from '../../data/corpus';
import { createNodeContext } from '../../gpu/device-node';
import type { TrainEvent } from '../events';
import type { TrainConfig } from '../setup';
import { directComm } from './rank-comm';
import { trainRank } from './rank-loop';

const base = {
  num_layers: 3,
  hidden_size: 32,
  num_attention_heads: 4,
  seq_length: 16,
  train_micro_batch_size_per_gpu: 2,
  gradient_accumulation_steps: 2,
  global_num_gpus: 2,
  train_iters: 2,
  eval_interval: 100,
  eval_iters: 1,
  tokenizer_type: 'CharLevelTokenizer',
  optimizer: { type: 'Adam', params: { lr: 3e-3 } },
  warmup: 0,
};

async function run(stage: number) {
  const { config } = resolveConfig([{ file: 'test', data: { ...base, zero_optimization: { stage } } }]);
  const ctx = await createNodeContext({ preferSwiftShader: true });
  const text = (await defaultCorpus()).slice(0, 100_000);
  const loop = createLoopbackWorld(2);
  const events = loop.transports.map(() => [] as TrainEvent[]);
  await Promise.all(
    loop.transports.map((t, rank) =>
      trainRank(
        ctx,
        config as unknown as TrainConfig,
        { kind: 'text', text },
        { comm: directComm(t), rank, world: 2 },
        (e) => events[rank].push(e),
      ),
    ),
  );
  const bytes = loop.transports[0].meter.totals().reduce((a, s) => a + s.bytesSent, 0);
  const losses = events[0].flatMap((e) => (e.kind === 'step' ? [e.loss] : []));
  const start = events[0].find((e) => e.kind === 'start');
  return { bytes, losses, params: start?.kind === 'start' ? start.params : 0 };
}

describe('ZeRO stages over two replicas', { timeout: 300_000 }, () => {
  it('train alike; stage 2 and 3 send more to hold less', async () => {
    const [one, two, three] = [await run(1), await run(2), await run(3)];
    for (const z of [two, three]) {
      expect(z.losses).toHaveLength(2);
      z.losses.forEach((l, i) => expect(Math.abs(l / one.losses[i] - 1), `step ${i + 1}`).toBeLessThan(1e-5));
    }
    expect(two.bytes).toBeGreaterThan(one.bytes);
    expect(three.bytes).toBeGreaterThan(1.5 * two.bytes);
    const perParam = (b: number) => (b / one.params / 2).toFixed(2);
    console.log(
      `[zero traffic] DP2, 3 layers, 2 micro-batches: bytes sent per rank per step per parameter: ` +
        `ZeRO-1 ${perParam(one.bytes)}, ZeRO-2 ${perParam(two.bytes)}, ZeRO-3 ${perParam(three.bytes)} ` +
        '(one evaluation pass per run included)',
    );
  });
});
