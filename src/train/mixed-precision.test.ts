// fp16 / bf16 training (WebGPU through Dawn in Node; every rank in this process over the loopback
// transport): loss scaling is exact on one rank (with half_storage off: f32 in GPU memory), a
// two-stage pipeline sends 16-bit activations and gradients, an overflow on one stage skips the
// step on both and the dynamic scale follows DeepSpeed's rule, and an overflow at min_loss_scale
// stops the run. 16-bit storage in GPU memory itself: half-storage.test.ts.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve';
import { defaultCorpus } from '../data/corpus';
import { sharedTestContext } from '../gpu/test-context';
import type { TrainRankOptions } from './distributed/rank-loop';
import { memoryCheckpointStore } from '../checkpoint';
import type { TrainEvent } from './events';
import type { TrainConfig } from './setup';
import { trainLoopbackRanksSettled } from './distributed/loopback-ranks';

const base = {
  num_layers: 2,
  hidden_size: 32,
  num_attention_heads: 4,
  seq_length: 16,
  train_micro_batch_size_per_gpu: 2,
  gradient_accumulation_steps: 2,
  train_iters: 8,
  eval_interval: 8,
  eval_iters: 1,
  tokenizer_type: 'CharLevelTokenizer',
  optimizer: { type: 'Adam', params: { lr: 3e-3 } },
  hidden_dropout: 0,
  attention_dropout: 0,
  warmup: 0,
  sample_tokens: 0,
};

async function run(change: Record<string, unknown>, world: number, opts: TrainRankOptions = {}) {
  const { config } = resolveConfig([{ file: 'test', data: { ...base, ...change } }]);
  const text = (await defaultCorpus()).slice(0, 200_000);
  const ctx = await sharedTestContext();
  const { out, events, bytes } = await trainLoopbackRanksSettled(
    ctx,
    config as unknown as TrainConfig,
    text,
    world,
    // what travels between ranks is the subject: the wire path, not the shared device's
    { collectives: 'host', ...opts },
  );
  const steps = events.map((ev) => ev.filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step'));
  return { out, steps, bytes };
}

/** only what travels between ranks is 16-bit: weights and activations stay f32 in GPU memory */
const wireOnly = { half_storage: { weights: false, activations: false } };

const losses = (steps: Array<{ loss: number }>) => steps.map((s) => s.loss);

describe('mixed precision training', { timeout: 300_000 }, () => {
  it('fp16 on one rank, f32 storage: the loss scale is exact, so the losses equal f32 to the bit', async () => {
    const short = { train_iters: 4, eval_interval: 4 };
    const f32 = await run(short, 1);
    const fp16 = await run(
      { ...short, ...wireOnly, fp16: { enabled: true, loss_scale: 0, initial_scale_power: 12 } },
      1,
    );
    expect(losses(fp16.steps[0])).toEqual(losses(f32.steps[0]));
    expect(fp16.steps[0].map((s) => s.lossScale)).toEqual(Array(4).fill(4096));
    expect(fp16.steps[0].some((s) => s.skipped)).toBe(false);
    expect(f32.steps[0][0].lossScale).toBeUndefined();
  });

  it('fp16 over two stages: overflowing steps are skipped on both stages while the scale comes down', async () => {
    const pp = { pipe_parallel_size: 2, train_iters: 10, eval_interval: 10 };
    const f32 = await run(pp, 2);
    const fp16 = await run({ ...pp, fp16: { enabled: true, initial_scale_power: 20, hysteresis: 1 } }, 2);
    expect(fp16.out.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled']);
    const [first, last] = fp16.steps;
    // only the first stage receives the overflowing gradients; both skip, with the same scales
    expect(first.map((s) => [s.lossScale, !!s.skipped])).toEqual(last.map((s) => [s.lossScale, !!s.skipped]));
    const skipped = last.filter((s) => s.skipped).length;
    expect(last[0].skipped).toBe(true);
    expect(skipped).toBeGreaterThan(0);
    expect(skipped).toBeLessThan(6); // then it trains
    // hysteresis 1, window 1000: every overflow halves the scale, nothing else moves it
    for (let i = 1; i < last.length; i++)
      expect(last[i].lossScale).toBe(last[i - 1].lossScale! / (last[i - 1].skipped ? 2 : 1));
    // a skipped step leaves the learning rate where it was (the schedule counts applied steps)
    expect(last[1].lr).toBe(last[0].lr);
    expect(last.at(-1)!.loss).toBeLessThan(last[0].loss - 0.2);
    // 16-bit activations, their gradients and the tied-embedding gradient: about half the bytes
    // of f32 (the loss and norm scalars stay f32)
    expect(fp16.bytes[0] / f32.bytes[0]).toBeCloseTo(0.5, 1);
    expect(fp16.bytes[1] / f32.bytes[1]).toBeCloseTo(0.5, 1);
    const bf16 = await run({ ...pp, bf16: { enabled: true } }, 2);
    expect(bf16.steps[1].some((s) => s.skipped)).toBe(false);
    const diff = losses(bf16.steps[1]).map((l, i) => Math.abs(l - losses(f32.steps[1])[i]));
    expect(Math.max(...diff)).toBeLessThan(0.05);
    expect(Math.max(...diff)).toBeGreaterThan(0); // bf16 rounding does change the numbers
  });

  it('fp16 with tensor and data parallelism: 16-bit sums, replicas agree, the loss stays near f32', async () => {
    const layout = { model_parallel_size: 2, global_num_gpus: 4, train_iters: 4, eval_interval: 4 };
    const f32 = await run(layout, 4);
    const fp16 = await run({ ...layout, fp16: { enabled: true, initial_scale_power: 10 } }, 4);
    expect(fp16.out.map((o) => o.status)).toEqual(Array(4).fill('fulfilled'));
    const valid = fp16.out.map((o) => (o as PromiseFulfilledResult<{ validLoss: number }>).value.validLoss);
    expect(new Set(valid).size).toBe(1); // every rank, both replicas, the same model
    const diff = losses(fp16.steps[0]).map((l, i) => Math.abs(l - losses(f32.steps[0])[i]));
    expect(Math.max(...diff)).toBeLessThan(0.01);
    expect(fp16.steps[0].some((s) => s.skipped)).toBe(false);
    for (const r of [0, 1, 2, 3]) expect(fp16.bytes[r] / f32.bytes[r]).toBeLessThan(0.6);
  });

  it('fp16, ZeRO-2 over two replicas, f32 storage: the gradient reduce-scatter is fp16, losses near f32', async () => {
    const zero = { global_num_gpus: 2, zero_optimization: { stage: 2 }, train_iters: 3, eval_interval: 3 };
    const f32 = await run(zero, 2);
    // 2^12: the scaled gradients' partial sums stay inside fp16's range (at 2^20 they overflow on
    // the wire, and the steps are skipped as they must be)
    const fp16 = await run({ ...zero, ...wireOnly, fp16: { enabled: true, initial_scale_power: 12 } }, 2);
    const [a, b] = [losses(f32.steps[0]), losses(fp16.steps[0])];
    expect(b[0]).toBe(a[0]); // the first forward: f32 weights and activations, the exact loss scale
    const rel = b.map((x, i) => Math.abs(x - a[i]) / a[i]);
    expect(Math.max(...rel)).toBeGreaterThan(0); // the scaled gradients' partial sums travelled as fp16
    expect(Math.max(...rel)).toBeLessThan(2e-4);
    expect(fp16.steps[1].map((s) => [s.lossScale, !!s.skipped])).toEqual(Array(3).fill([2 ** 12, false]));
    // f32 weights in GPU memory: the updated parameters are gathered in f32, the gradients in fp16
    for (const r of [0, 1]) expect(fp16.bytes[r] / f32.bytes[r]).toBeLessThan(0.8);
    for (const r of [0, 1]) expect(fp16.bytes[r] / f32.bytes[r]).toBeGreaterThan(0.5);
  });

  it('bf16 ZeRO-2 over two replicas: a checkpoint holds the f32 master shards, so the resumed run goes on exactly', async () => {
    // the replicas all-gather updated parameters in bf16: outside its own shard a rank's master
    // holds the others' values rounded; the checkpoint gathers the owners' f32 shards instead
    const c = {
      global_num_gpus: 2,
      zero_optimization: { stage: 2 },
      train_iters: 6,
      eval_interval: 6,
      bf16: { enabled: true },
    };
    const whole = await run(c, 2);
    const store = memoryCheckpointStore();
    await run(c, 2, { maxSteps: 3, checkpoints: { save: store } });
    const resumed = await run(c, 2, { checkpoints: { load: store } });
    const tail = (steps: typeof whole.steps) => steps[0].slice(-3).map((s) => [s.step, s.loss, s.gradNorm]);
    expect(tail(resumed.steps)).toEqual(tail(whole.steps));
  });

  it('a checkpoint keeps the loss scaler and skipped steps: the resumed run goes on as if never stopped', async () => {
    const c = {
      pipe_parallel_size: 2,
      train_iters: 10,
      eval_interval: 10,
      fp16: { enabled: true, initial_scale_power: 20, hysteresis: 2, loss_scale_window: 2 },
    };
    const whole = await run(c, 2);
    const store = memoryCheckpointStore();
    await run(c, 2, { maxSteps: 6, checkpoints: { save: store } });
    const resumed = await run(c, 2, { checkpoints: { load: store } });
    const tail = (steps: typeof whole.steps) =>
      steps[1].slice(-4).map((s) => [s.step, s.loss, s.lossScale, !!s.skipped, s.lr]);
    expect(whole.steps[1].slice(0, 6).some((s) => s.skipped)).toBe(true);
    expect(tail(resumed.steps)).toEqual(tail(whole.steps));
  });

  it('an overflow at min_loss_scale stops the run on every rank, saying so', async () => {
    const r = await run(
      {
        pipe_parallel_size: 2,
        fp16: { enabled: true, initial_scale_power: 28, hysteresis: 1, min_loss_scale: 2 ** 27 },
      },
      2,
    );
    for (const o of r.out) {
      expect(o.status).toBe('rejected');
      expect(String((o as PromiseRejectedResult).reason)).toMatch(/min_loss_scale = 134217728.*the run stops/);
    }
    // 2^28 overflows and halves to the minimum 2^27 (a skipped step); the next overflow stops the run
    expect(r.steps[1].map((s) => [s.lossScale, s.skipped])).toEqual([[2 ** 28, true]]);
  });
});
