// f16 arithmetic in training, on Mesa's lavapipe (Dawn in Node; the one device here with shader-f16):
// an fp16 run computes its linear layers' products with matmul_f16.wgsl by default and stays within
// a stated distance of the same run with f32 arithmetic (same weights, same tokens), which in turn
// is the 16-bit-storage run the SwiftShader tests compare with f32; bf16 and f32 runs never select
// the f16 kernel; TP2 with sequence parallelism (column- and row-parallel products) stays near one
// rank, every rank's start event saying it computes in f16. This file runs in a Vitest process of its
// own (VK_ICD_FILENAMES is per process); without lavapipe it fails, naming the install.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve';
import type { Tokenizer } from '../data/tokenizer';
import type { Arithmetic } from '../gpu/kernels/matmul-f16';
import { sharedLavapipeContext } from '../gpu/test-context';
import { initFlat } from '../model/init';
import type { Program } from '../model/program';
import { defaultCorpus } from '../data/corpus';
import { trainLoopbackRanks } from './distributed/loopback-ranks';
import type { TrainEvent } from './events';
import { F16_ARITHMETIC, mixedPrecisionFor } from './precision';
import { adamHyper, lrSchedule, modelSpec, type TrainConfig } from './setup';
import { type MicroBatch, Trainer } from './trainer';

const base = {
  num_layers: 2,
  hidden_size: 32,
  num_attention_heads: 4,
  seq_length: 16,
  train_micro_batch_size_per_gpu: 2,
  gradient_accumulation_steps: 1,
  train_iters: 8,
  tokenizer_type: 'CharLevelTokenizer',
  optimizer: { type: 'Adam', params: { lr: 3e-3 } },
  hidden_dropout: 0,
  attention_dropout: 0,
  warmup: 0,
};
const STEPS = 8;
/** largest |loss(f16 arithmetic) − loss(f32 arithmetic)| / loss over the steps. The f16 products add
 *  per output a few f16 roundings (u = 2⁻¹¹) of random sign to the logits and every activation; the
 *  loss, a mean over tokens and classes, moves far less (measured here: 1.2e-5). 1e-4 leaves room for
 *  that, and fails on any real mistake (a wrong operand or transpose moves the loss by O(1)). The
 *  first step's gradient norm, before any update, is held to 1e-3 (its terms are not averaged). */
const TOLERANCE = 1e-4;
const GRAD_NORM_TOLERANCE = 1e-3;
/** fp16's loss tolerance against f32 in half-storage.test.ts */
const FP16_VS_F32 = 2e-4;

const configOf = (change: Record<string, unknown>) =>
  resolveConfig([{ file: 'test', data: { ...base, ...change } }]).config as unknown as TrainConfig;

/** Fixed token streams (a character-level text's bytes), one micro-batch per step. */
function batches(V: number, T: number, B: number): MicroBatch[][] {
  const text = new TextEncoder().encode(
    'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of ' +
      'foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light.',
  );
  return Array.from({ length: STEPS }, (_, s) => {
    const at = (i: number) => text[(s * 11 + i) % text.length] % V;
    const N = B * T;
    return [
      {
        tokens: Int32Array.from({ length: N }, (_, i) => at(i)),
        targets: Int32Array.from({ length: N }, (_, i) => at(i + 1)),
      },
    ];
  });
}

const labels = (programs: Program[]) =>
  new Set(
    programs.flatMap((p) => p.flatMap((step) => (step.kind === 'gpu' ? step.dispatches.map((d) => d.label) : []))),
  );

async function train(precision: Record<string, unknown>, arithmetic?: Arithmetic, readPackedWeights?: boolean) {
  const ctx = await sharedLavapipeContext();
  const c = configOf(precision);
  const spec = modelSpec(c, { vocabSize: 256 } as Tokenizer);
  const mixed = mixedPrecisionFor(c) ?? undefined;
  const t = new Trainer(ctx, {
    spec,
    microBatchSize: 2,
    gradAccumSteps: 1,
    adam: adamHyper(c),
    schedule: lrSchedule(c),
    mixed,
    arithmetic,
    readPackedWeights,
  });
  t.loadParams(initFlat(t.model.layout, c.seed));
  const steps = [];
  for (const mb of batches(spec.V, spec.T, 2)) steps.push(await t.trainStep(mb));
  const used = labels(t.model.slots.flatMap((s) => [s.forward, s.backward]));
  return { ctx, model: t.model, steps, losses: steps.map((s) => s.loss), used };
}

const relDiff = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i]) / Math.abs(b[i])));
const fp16 = { fp16: { enabled: true, initial_scale_power: 12 } };

describe('f16 arithmetic in training (lavapipe)', { timeout: 300_000 }, () => {
  it('fp16 selects the f16 kernel for every linear product; within tolerance of f32 arithmetic', async () => {
    const f16 = await train(fp16);
    const f32 = await train(fp16, 'f32');
    expect(f16.model.arithmetic).toBe('f16');
    expect(f32.model.arithmetic).toBe('f32');
    // forward x·Wᵀ (nt), input gradients dy·W (nn), weight gradients dyᵀ·x (tn)
    for (const l of ['matmul_f16_nt', 'matmul_f16_nn', 'matmul_f16_tn']) expect(f16.used).toContain(l);
    expect([...f32.used].filter((l) => l.startsWith('matmul_f16'))).toEqual([]);
    // the MLP-down input gradient too: its GELU backward runs after it, in place (f32 fuses it)
    expect(f16.used).toContain('gelu_bwd_inplace');
    // f32 products left with f16 arithmetic: attention's batched ones (not linear layers), through
    // a CPU fallback's f32 kernel
    expect([...f16.used].filter((l) => /^matmul_(vec4_|direct_)?[nt][nt]$/.test(l)).sort()).toEqual([
      'matmul_direct_nn',
      'matmul_direct_nt',
      'matmul_direct_tn',
    ]);
    expect(f16.steps.some((s) => s.overflow)).toBe(false);
    expect(f32.steps.some((s) => s.overflow)).toBe(false);
    const d = relDiff(f16.losses, f32.losses);
    const g = relDiff([f16.steps[0].gradNorm], [f32.steps[0].gradNorm]);
    console.log(
      `fp16 losses, f16 vs f32 arithmetic over ${STEPS} steps: max rel diff ${d.toExponential(2)}; ` +
        `step 1 grad norm rel diff ${g.toExponential(2)}; ` +
        `f16 ${f16.losses.map((x) => x.toFixed(5)).join(' ')}; f32 ${f32.losses.map((x) => x.toFixed(5)).join(' ')}`,
    );
    expect(d).toBeLessThan(TOLERANCE);
    expect(d).toBeGreaterThan(0); // the f16 kernel did change the numbers
    expect(g).toBeLessThan(GRAD_NORM_TOLERANCE);
    expect(g).toBeGreaterThan(0);
    expect(f16.losses[STEPS - 1]).toBeLessThan(f16.losses[0]); // and it trains
    // against an f32 run, both stay within what half-storage.test.ts allows fp16 storage alone
    const plain = await train({});
    const [d16, d32] = [relDiff(f16.losses, plain.losses), relDiff(f32.losses, plain.losses)];
    console.log(`vs fp32: f16 arithmetic ${d16.toExponential(2)}, f32 arithmetic ${d32.toExponential(2)}`);
    expect(d16).toBeLessThan(FP16_VS_F32);
  });

  it('fp16 weights read packed by the f16 products: the same numbers to the bit, never unpacked', async () => {
    const packed = await train(fp16);
    const viaWindow = await train(fp16, undefined, false);
    expect(packed.model.packedReads.size).toBe(4 * 2); // QKV, attention output, MLP up, MLP down; 2 layers
    expect(viaWindow.model.packedReads.size).toBe(0);
    expect(packed.used).toContain('matmul_f16_nt_packed'); // forward x·Wᵀ
    expect(packed.used).toContain('matmul_f16_nn_packed'); // input gradient dy·W
    expect([...viaWindow.used].filter((l) => l.endsWith('_packed'))).toEqual([]);
    expect(packed.losses).toEqual(viaWindow.losses);
    expect(packed.steps.map((s) => s.gradNorm)).toEqual(viaWindow.steps.map((s) => s.gradNorm));
    // the window's copies of those weights were never written (the buffer starts zeroed)
    const { model, ctx } = packed;
    for (const name of model.packedReads) {
      const w = await ctx.read(model.param(name));
      expect(
        w.some((x) => x !== 0),
        name,
      ).toBe(false);
      const n = await ctx.read(viaWindow.model.param(name));
      expect(
        n.some((x) => x !== 0),
        name,
      ).toBe(true);
    }
  });

  it('bf16 and f32 runs compute in f32 on the same device', async () => {
    const bf16 = await train({ bf16: { enabled: true } });
    const plain = await train({});
    for (const r of [bf16, plain]) {
      expect(r.model.arithmetic).toBe('f32');
      expect([...r.used].filter((l) => l.startsWith('matmul_f16'))).toEqual([]);
    }
  });

  it('TP2 + sequence parallelism, fp16: every rank computes in f16 and says so; losses near one rank’s', async () => {
    const ctx = await sharedLavapipeContext();
    const text = (await defaultCorpus()).slice(0, 100_000);
    const run = async (layout: Record<string, unknown>, world: number) => {
      const c = configOf({ ...fp16, ...layout, train_iters: 4, eval_interval: 4, eval_iters: 1, sample_tokens: 0 });
      const { events } = await trainLoopbackRanks(ctx, c, text, world);
      const of = <K extends TrainEvent['kind']>(ev: TrainEvent[], kind: K) =>
        ev.filter((e): e is Extract<TrainEvent, { kind: K }> => e.kind === kind);
      return { losses: of(events[0], 'step').map((e) => e.loss), starts: events.map((ev) => of(ev, 'start')[0]) };
    };
    const one = await run({}, 1);
    const tp = await run({ model_parallel_size: 2, sequence_parallel: true }, 2);
    for (const start of [...one.starts, ...tp.starts])
      expect(start.precision).toMatch(new RegExp(`; ${F16_ARITHMETIC.replace(/[()]/g, '\\$&')}$`));
    expect([one.losses.length, tp.losses.length]).toEqual([4, 4]);
    const d = relDiff(tp.losses, one.losses);
    console.log(
      `fp16 with f16 arithmetic, TP2 + sequence parallelism vs one rank: max rel loss diff ${d.toExponential(2)}`,
    );
    expect(d).toBeLessThan(TOLERANCE);
  });
});
