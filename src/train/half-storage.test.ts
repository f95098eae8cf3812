// 16-bit storage in GPU memory (fp16 / bf16 with tabtron's half_storage, on by default; WebGPU
// through Dawn, every rank in this process over the loopback transport):
//   - the parameter window the kernels read holds the f32 master rounded to the format, bit for
//     bit as the CPU reference rounds it, before and after an optimizer update;
//   - 16-bit activations leave the forward as it was (first loss equal to f32's to the bit) and
//     change only what the backward sees;
//   - the losses stay within a stated relative distance of f32's on the same tokens, on one rank,
//     with TP + sequence parallelism + ZeRO-2 (every replica the same model), and over a pipeline
//     with activation recompute (packed chunk inputs) or interleaved 1F1B;
//   - two micro-batches in flight get f32's gradients within tolerance (their saved tensors are
//     kept apart though they are computed in the same shared buffers).
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve';
import { defaultCorpus } from '../data/corpus';
import type { Tokenizer } from '../data/tokenizer';
import { sharedTestContext } from '../gpu/test-context';
import { initFlat } from '../model/init';
import { REST } from '../model/param-window';
import { packHalfRef, unpackHalfRef } from '../reference/half';
import type { TrainEvent } from './events';
import { type HalfFormat, mixedPrecisionFor } from './precision';
import { adamHyper, lrSchedule, modelSpec, type TrainConfig } from './setup';
import { Trainer } from './trainer';
import { trainLoopbackRanks } from './distributed/loopback-ranks';

const base = {
  num_layers: 2,
  hidden_size: 32,
  num_attention_heads: 4,
  seq_length: 16,
  train_micro_batch_size_per_gpu: 2,
  gradient_accumulation_steps: 2,
  train_iters: 6,
  eval_interval: 6,
  eval_iters: 1,
  tokenizer_type: 'CharLevelTokenizer',
  optimizer: { type: 'Adam', params: { lr: 3e-3 } },
  hidden_dropout: 0,
  attention_dropout: 0,
  warmup: 0,
  sample_tokens: 0,
};

const precisions: Record<HalfFormat, Record<string, unknown>> = {
  fp16: { fp16: { enabled: true, initial_scale_power: 12 } },
  bf16: { bf16: { enabled: true } },
};
/** largest |loss − f32 loss| / f32 loss allowed over the steps: bf16 keeps 8 significant bits, fp16 11 */
const TOLERANCE: Record<HalfFormat, number> = { bf16: 2e-3, fp16: 2e-4 };

const configOf = (change: Record<string, unknown>) =>
  resolveConfig([{ file: 'test', data: { ...base, ...change } }]).config as unknown as TrainConfig;

async function run(change: Record<string, unknown>, world: number, collectives: 'device' | 'host' = 'device') {
  const config = configOf(change);
  const text = (await defaultCorpus()).slice(0, 200_000);
  const { out, events } = await trainLoopbackRanks(await sharedTestContext(), config, text, world, { collectives });
  const steps = events.map((ev) => ev.filter((e): e is Extract<TrainEvent, { kind: 'step' }> => e.kind === 'step'));
  const start = events.map((ev) => ev.find((e): e is Extract<TrainEvent, { kind: 'start' }> => e.kind === 'start')!);
  return { steps, start, validLoss: out.map((o) => o.validLoss) };
}

// one bf16 rank on the 8 samples a step of the DP2 layouts below see (shared by their tests)
let oneBf16Rank: ReturnType<typeof run> | null = null;
const oneBf16 = () =>
  (oneBf16Rank ??= run({ ...precisions.bf16, gradient_accumulation_steps: 4, train_iters: 4, eval_interval: 4 }, 1));

const relDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));
const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('16-bit storage in GPU memory', { timeout: 300_000 }, () => {
  for (const format of ['bf16', 'fp16'] as const) {
    it(`${format}: the window the kernels read is the master rounded, bit for bit, also after an update`, async () => {
      const ctx = await sharedTestContext();
      const c = configOf(precisions[format]);
      const spec = modelSpec(c, { vocabSize: 256 } as Tokenizer);
      const t = new Trainer(ctx, {
        spec,
        microBatchSize: 2,
        gradAccumSteps: 1,
        adam: adamHyper(c),
        schedule: lrSchedule(c),
        mixed: mixedPrecisionFor(c)!,
      });
      expect(t.halfStorage).toEqual({ weights: true, activations: true });
      t.loadParams(initFlat(t.model.layout, c.seed));
      const N = 2 * spec.T;
      const mb = {
        tokens: Int32Array.from({ length: N }, (_, i) => (i * 37) % spec.V),
        targets: Int32Array.from({ length: N }, (_, i) => (i * 37 + 1) % spec.V),
      };
      const { window } = t.model;
      const lastLayer = spec.L - 1; // a forward leaves the last layer in the window
      const check = async () => {
        await t.evaluate([mb]);
        const master = await t.readParams();
        const held = await ctx.read({
          buffer: t.model.params,
          offset: 0,
          length: window.length,
          shape: [window.length],
        });
        const runs = window.runs.filter((r) => r.unit === REST || r.unit === lastLayer);
        expect(runs.length).toBeGreaterThan(2);
        for (const r of runs) {
          const n = r.end - r.start;
          const want = unpackHalfRef(packHalfRef(bitsOf(master.subarray(r.start, r.end)), format), n, format);
          expect(bitsOf(held.subarray(r.at, r.at + n))).toEqual(want);
        }
        return master;
      };
      const before = await check();
      const step = await t.trainStep([mb]);
      expect(step.overflow).toBe(false);
      const after = await check();
      expect(after).not.toEqual(before);
    });
  }

  it('16-bit activations alone: the forward is f32’s to the bit, the backward sees rounded tensors', async () => {
    const f32 = await run({ train_iters: 3, eval_interval: 3 }, 1);
    const half = await run(
      { train_iters: 3, eval_interval: 3, ...precisions.bf16, half_storage: { weights: false, activations: true } },
      1,
    );
    const [a, b] = [f32.steps[0], half.steps[0]];
    expect(b[0].loss).toBe(a[0].loss); // step 1's loss is the forward's, before any update
    expect(b[0].gradNorm).not.toBe(a[0].gradNorm);
    expect(Math.abs(b[0].gradNorm - a[0].gradNorm) / a[0].gradNorm).toBeLessThan(TOLERANCE.bf16);
    expect(b[2].loss).not.toBe(a[2].loss);
  });

  it('one rank: fp16 and bf16 losses within their tolerance of f32 over 6 steps, and not equal to it', async () => {
    const f32 = await run({}, 1);
    for (const format of ['fp16', 'bf16'] as const) {
      const half = await run(precisions[format], 1);
      const [a, b] = [f32.steps[0].map((s) => s.loss), half.steps[0].map((s) => s.loss)];
      expect(half.steps[0].some((s) => s.skipped)).toBe(false);
      expect(relDiff(b, a), format).toBeLessThan(TOLERANCE[format]);
      expect(relDiff(b, a), format).toBeGreaterThan(0);
      expect(Math.abs(half.validLoss[0] - f32.validLoss[0]) / f32.validLoss[0]).toBeLessThan(TOLERANCE[format]);
      // SwiftShader has no shader-f16: the rank says it computes in f32 (bf16: always)
      expect(half.start[0].adapter?.features).not.toContain('shader-f16');
      expect(half.start[0].precision).toBe(
        `${format} mixed precision; ${format} in GPU memory: the parameters' working copy (cast from the f32 master ` +
          'weights after each update) and the activations each layer keeps for its backward; f32 in GPU memory: ' +
          `master weights, gradients, Adam state; f32 arithmetic (${
            format === 'fp16' ? 'this GPU has no shader-f16' : 'WGSL has no bf16 arithmetic type'
          })`,
      );
    }
  });

  // the ZeRO and sequence-parallel collectives carry bf16 here (distributed/half-traffic.test.ts
  // counts their bytes; the host path: on the shared device they would sum in f32): the losses
  // stay near one bf16 rank's on the same 8 samples a step
  it('TP2 with sequence parallelism × DP2 with ZeRO-2, bf16: replicas agree, losses near f32 and one bf16 rank', async () => {
    const layout = {
      model_parallel_size: 2,
      sequence_parallel: true,
      global_num_gpus: 4,
      zero_optimization: { stage: 2 },
      train_iters: 4,
      eval_interval: 4,
    };
    const f32 = await run(layout, 4, 'host');
    const bf16 = await run({ ...layout, ...precisions.bf16 }, 4, 'host');
    const one = await oneBf16();
    expect(new Set(bf16.validLoss).size).toBe(1); // every rank, both replicas, the same model
    const [a, b, c] = [f32.steps[0], bf16.steps[0], one.steps[0]].map((st) => st.map((s) => s.loss));
    expect(relDiff(b, a)).toBeLessThan(TOLERANCE.bf16);
    expect(relDiff(b, a)).toBeGreaterThan(0);
    expect(relDiff(b, c)).toBeLessThan(TOLERANCE.bf16);
  });

  it('DP2 with ZeRO-3, bf16 (layers gathered in bf16): replicas agree, losses near one bf16 rank', async () => {
    const layout = { global_num_gpus: 2, zero_optimization: { stage: 3 }, train_iters: 4, eval_interval: 4 };
    const bf16 = await run({ ...layout, ...precisions.bf16 }, 2);
    const one = await oneBf16();
    expect(new Set(bf16.validLoss).size).toBe(1);
    const [b, c] = [bf16.steps[0], one.steps[0]].map((st) => st.map((s) => s.loss));
    expect(relDiff(b, c)).toBeLessThan(TOLERANCE.bf16); // the window's bits: half-gather.test.ts
  });

  for (const [what, change] of [
    ['activation recompute (packed chunk inputs)', { num_layers: 6, checkpoint_activations: true }],
    ['interleaved 1F1B (two model chunks a stage)', { num_layers: 4, num_layers_per_virtual_pipeline_stage: 1 }],
  ] as const)
    it(`PP2 with ${what}, bf16: the last stage’s losses near f32`, async () => {
      const layout = { ...change, pipe_parallel_size: 2, train_iters: 4, eval_interval: 4 };
      const f32 = await run(layout, 2);
      const bf16 = await run({ ...layout, ...precisions.bf16 }, 2);
      const [a, b] = [f32.steps[1].map((s) => s.loss), bf16.steps[1].map((s) => s.loss)];
      expect(relDiff(b, a)).toBeLessThan(TOLERANCE.bf16);
      expect(relDiff(b, a)).toBeGreaterThan(0);
      expect(Math.abs(bf16.validLoss[1] - f32.validLoss[1]) / f32.validLoss[1]).toBeLessThan(TOLERANCE.bf16);
    });

  for (const recompute of [false, true]) {
    const what = recompute ? ' (recompute: the chunk inputs)' : '';
    it(`two micro-batches in flight share the work buffers${what}: f32's gradients within tolerance`, async () => {
      // forward 0, forward 1, backward 0, backward 1 (1F1B's first stage): each backward must see
      // its own micro-batch's saved tensors, unpacked from its slot's copies
      const ctx = await sharedTestContext();
      const grads = async (change: Record<string, unknown>) => {
        const c = configOf({ num_layers: 3, checkpoint_activations: recompute, ...change });
        const spec = modelSpec(c, { vocabSize: 256 } as Tokenizer);
        const t = new Trainer(ctx, {
          spec,
          microBatchSize: 2,
          gradAccumSteps: 2,
          adam: adamHyper(c),
          schedule: lrSchedule(c),
          slots: 2,
          recomputeLayers: recompute ? 1 : 0,
          mixed: mixedPrecisionFor(c) ?? undefined,
        });
        t.loadParams(initFlat(t.model.layout, c.seed));
        t.beginStep();
        const N = 2 * spec.T;
        for (const k of [0, 1])
          t.upload(
            {
              tokens: Int32Array.from({ length: N }, (_, i) => (i * (31 + k) + 7 * k) % spec.V),
              targets: Int32Array.from({ length: N }, (_, i) => (i * (31 + k) + 7 * k + 1) % spec.V),
            },
            k,
          );
        for (const k of [0, 1]) await t.run(t.forwardOf(k));
        for (const k of [0, 1]) await t.run(t.model.slots[k].backward);
        return { g: await t.readGrads(), half: t.halfStorage.activations };
      };
      const f32 = await grads({});
      const bf16 = await grads({ ...precisions.bf16, half_storage: { weights: false, activations: true } });
      expect(bf16.half).toBe(true);
      let diff = 0,
        norm = 0;
      for (let i = 0; i < f32.g.length; i++) {
        diff += (bf16.g[i] - f32.g[i]) ** 2;
        norm += f32.g[i] ** 2;
      }
      const rel = Math.sqrt(diff / norm);
      expect(rel).toBeGreaterThan(0);
      expect(rel).toBeLessThan(TOLERANCE.bf16 * 5); // ‖Δg‖ / ‖g‖ with 8-bit mantissas in the saved tensors
    });
  }
});
