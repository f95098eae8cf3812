// The training loop with local_sgd and pipe_compression (WebGPU through Dawn in Node; every rank
// in this process over the loopback transport): DiLoCo rounds between two data-parallel
// replicas, and a two-stage pipeline sending int8 activations and gradients, each against the
// same run without them.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../config/resolve';
import { defaultCorpus } from '../../data/corpus';
import { sharedTestContext } from '../../gpu/test-context';
import type { TrainEvent } from '../events';
import type { TrainConfig } from '../setup';
import { trainLoopbackRanks } from '../distributed/loopback-ranks';

const base = {
  num_layers: 2,
  hidden_size: 32,
  num_attention_heads: 4,
  seq_length: 16,
  train_micro_batch_size_per_gpu: 2,
  train_iters: 4,
  eval_interval: 4,
  eval_iters: 1,
  tokenizer_type: 'CharLevelTokenizer',
  optimizer: { type: 'Adam', params: { lr: 3e-3 } },
  hidden_dropout: 0,
  attention_dropout: 0,
  warmup: 0,
};

async function run(change: Record<string, unknown>, world: number) {
  const { config } = resolveConfig([{ file: 'test', data: { ...base, ...change } }]);
  const text = (await defaultCorpus()).slice(0, 200_000);
  // bytes sent are the subject: collectives over the wire, not on the shared device
  return trainLoopbackRanks(await sharedTestContext(), config as unknown as TrainConfig, text, world, {
    collectives: 'host',
  });
}

const of = <K extends TrainEvent['kind']>(events: TrainEvent[], kind: K) =>
  events.filter((e): e is Extract<TrainEvent, { kind: K }> => e.kind === kind);

// a few tiny training runs on a CPU WebGPU: seconds each, more on a loaded machine
describe('the rank loop over slow links', { timeout: 300_000 }, () => {
  it('local_sgd: replicas sync every inner_steps, end with one model, and send a fraction of the bytes', async () => {
    const sync = await run({ global_num_gpus: 2 }, 2);
    const diloco = await run(
      {
        global_num_gpus: 2,
        local_sgd: { inner_steps: 2, compression: { type: 'int8', block_size: 64 } },
      },
      2,
    );
    for (const ev of diloco.events) expect(of(ev, 'round').map((r) => r.appliedAt)).toEqual([2, 4]);
    expect(of(sync.events[0], 'round')).toEqual([]);
    // after the last sync both replicas hold the same weights: the same validation loss, to the bit
    expect(diloco.out[1].validLoss).toBe(diloco.out[0].validLoss);
    expect(diloco.out[0].validLoss).toBeLessThan(of(diloco.events[0], 'eval')[0].loss);
    // int8 rounds every 2 steps against f32 gradients every step
    expect(diloco.bytes[0] / sync.bytes[0]).toBeLessThan(0.2);
    expect(Math.abs(diloco.out[0].validLoss / sync.out[0].validLoss - 1)).toBeLessThan(0.05);
  });

  it('local_sgd streaming: staggered fragments whose syncs overlap the next inner step', async () => {
    const streamed = await run(
      {
        global_num_gpus: 2,
        local_sgd: {
          inner_steps: 3,
          compression: { type: 'int8', block_size: 64 },
          streaming: { fragments: 2, overlap_steps: 1, mix: 0.5 },
        },
      },
      2,
    );
    // fragment 0 syncs after steps 1 and 4, fragment 1 after step 3; each sync is applied one inner
    // step after it started (fragment 1's, at 4, mixed with what step 4 trained), except at the last
    // step, where every fragment syncs and the run waits for it
    const expected = [
      [0, 1, 2],
      [1, 3, 4],
      [0, 4, 4],
      [1, 4, 4],
    ];
    for (const ev of streamed.events) {
      const rounds = of(ev, 'round');
      expect(rounds.map((r) => [r.fragment, r.startedAt, r.appliedAt])).toEqual(expected);
      // the two fragments split the flat parameter buffer (the parameters and their alignment padding)
      const params = of(ev, 'start')[0].params;
      expect(rounds[0].values + rounds[1].values).toBeGreaterThanOrEqual(params);
      for (const r of rounds.slice(0, 2)) expect(r.values).toBeLessThan(0.6 * params);
    }
    expect(streamed.out[1].validLoss).toBe(streamed.out[0].validLoss);
    expect(streamed.out[0].validLoss).toBeLessThan(of(streamed.events[0], 'eval')[0].loss);
  });

  it('pipe_compression int8: a two-stage pipeline trains like f32 and sends about a quarter of the bytes', async () => {
    // untied embeddings: no per-step all-reduce of the embedding's gradient between the stages
    const pp = { pipe_parallel_size: 2, gradient_accumulation_steps: 2, no_weight_tying: true };
    const f32 = await run(pp, 2);
    const int8 = await run({ ...pp, pipe_compression: { activations: 'int8', gradients: 'int8' } }, 2);
    const losses = (r: typeof f32) => of(r.events[1], 'step').map((s) => s.loss);
    const [a, b] = [losses(f32), losses(int8)];
    for (let i = 0; i < a.length; i++) expect(Math.abs(b[i] / a[i] - 1), `step ${i + 1}`).toBeLessThan(0.01);
    // (the rest: the loss and gradient-norm all-reduces and the evaluation)
    expect(int8.bytes[0] / f32.bytes[0]).toBeLessThan(0.35);
  });
});
