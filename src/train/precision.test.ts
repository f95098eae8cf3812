// The fp16 / bf16 config keys → the scaler a rank uses, and the config errors that name the key.
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve';
import { DynamicLossScaler, StaticLossScaler } from './loss-scaler';
import { arithmeticNote, describePrecision, F16_ARITHMETIC, mixedPrecisionFor, rankPrecision } from './precision';

const base = {
  num_layers: 2,
  hidden_size: 32,
  num_attention_heads: 4,
  seq_length: 16,
  train_iters: 4,
  lr: 1e-3,
  train_micro_batch_size_per_gpu: 1,
};
const resolve = (extra: Record<string, unknown>) => resolveConfig([{ file: 'run.yml', data: { ...base, ...extra } }]);

describe('precision from the fp16 / bf16 blocks', () => {
  it('f32 by default: no mixed-precision machinery', () => {
    expect(mixedPrecisionFor(resolve({}).config)).toBeNull();
  });

  it("fp16 with loss_scale 0 scales dynamically with DeepSpeed's defaults for the keys not given", () => {
    const { config } = resolve({ fp16: { enabled: true, loss_scale: 0, loss_scale_window: 500 } });
    const mp = mixedPrecisionFor(config)!;
    expect(mp.format).toBe('fp16');
    expect(mp.scaler).toBeInstanceOf(DynamicLossScaler);
    expect((mp.scaler as DynamicLossScaler).opts).toEqual({
      initialScalePower: 16,
      lossScaleWindow: 500,
      hysteresis: 2,
      minLossScale: 1,
      consecutiveHysteresis: false,
    });
    expect(mp.scaler.scale).toBe(65536);
  });

  it('fp16 with loss_scale > 0 is a static scale; bf16 is scale 1', () => {
    const fixed = mixedPrecisionFor(resolve({ fp16: { enabled: true, loss_scale: 128 } }).config)!;
    expect(fixed.scaler).toBeInstanceOf(StaticLossScaler);
    expect(fixed.scaler.scale).toBe(128);
    const bf = mixedPrecisionFor(resolve({ bf16: { enabled: true } }).config)!;
    expect([bf.format, bf.scaler.scale]).toEqual(['bf16', 1]);
    expect(describePrecision(resolve({ bf16: { enabled: true } }).config)).toMatch(/^bf16 mixed precision: no loss/);
  });

  it('`precision: fp16` alone uses the fp16 defaults', () => {
    const mp = mixedPrecisionFor(resolve({ precision: 'fp16' }).config)!;
    expect(mp.scaler.scale).toBe(2 ** 16);
  });

  it('bad fp16 values are errors naming the key', () => {
    expect(() => resolve({ fp16: { enabled: true, hysteresis: 0 } })).toThrow(
      /fp16\.hysteresis must be a positive integer, got 0/,
    );
    expect(() => resolve({ fp16: { enabled: true, loss_scale: -1 } })).toThrow(
      /fp16\.loss_scale must be a number >= 0/,
    );
    expect(() => resolve({ fp16: { enabled: true, min_loss_scale: 0 } })).toThrow(/fp16\.min_loss_scale/);
    expect(() => resolve({ fp16: { enabled: true, loss_scale_window: 0 } })).toThrow(/fp16\.loss_scale_window/);
  });

  it('half_storage: both parts by default, each can be turned off; a bad key or value names it', () => {
    expect(mixedPrecisionFor(resolve({ bf16: { enabled: true } }).config)!.storage).toEqual({
      weights: true,
      activations: true,
    });
    const off = resolve({ fp16: { enabled: true }, half_storage: { weights: false } }).config;
    expect(mixedPrecisionFor(off)!.storage).toEqual({ weights: false, activations: true });
    expect(describePrecision(off)).toContain(
      'fp16 in GPU memory: the activations each layer keeps for its backward; f32 in GPU memory: weights,',
    );
    expect(() => resolve({ half_storage: { weight: false } })).toThrow(
      /half_storage has unknown key "weight" \(did you mean "weights"\?\)/,
    );
    expect(() => resolve({ half_storage: { activations: 'yes' } })).toThrow(/half_storage\.activations/);
  });

  it('layouts that keep part of the storage in f32 say so, naming the key', () => {
    const zero3 = resolve({ bf16: { enabled: true }, zero_optimization: { stage: 3 } });
    expect(zero3.warnings).toEqual([
      expect.stringMatching(
        /zero_optimization\.stage: 3 with bfloat16: ZeRO-3 keeps the parameters' working copy in f32 .*weights/,
      ),
    ]);
    expect(describePrecision(zero3.config)).toMatch(
      /bf16 in GPU memory: the activations .*\(zero_optimization\.stage: /,
    );
    // asked off, or f32: nothing to warn about; activation recompute keeps its chunk inputs in 16 bits
    expect(
      resolve({ fp16: { enabled: true }, zero_optimization: { stage: 3 }, half_storage: { weights: false } }).warnings,
    ).toEqual([]);
    expect(resolve({ zero_optimization: { stage: 3 } }).warnings).toEqual([]);
    const recompute = resolve({ fp16: { enabled: true }, checkpoint_activations: true });
    expect(recompute.warnings).toEqual([]);
    expect(describePrecision(recompute.config)).toContain('and the activations each layer keeps for its backward;');
  });

  it('arithmetic: f16 in the linear products for fp16 on a GPU with shader-f16, else f32 (bf16 always)', () => {
    const plain = ['subgroups', 'timestamp-query'];
    const f16 = ['shader-f16', 'subgroups'];
    expect(arithmeticNote('fp16', plain)).toBe('f32 arithmetic (this GPU has no shader-f16)');
    expect(arithmeticNote('fp16', f16)).toBe(F16_ARITHMETIC);
    expect(F16_ARITHMETIC).toMatch(/^f16 arithmetic in the linear layers' matrix products \(shader-f16/);
    expect(arithmeticNote('bf16', f16)).toBe('f32 arithmetic (WGSL has no bf16 arithmetic type)');
    expect(arithmeticNote('fp16')).toBe(`on GPUs with shader-f16 ${F16_ARITHMETIC}; on the others f32 arithmetic`);
    // a rank reports what its model runs: f32 when forced, though the GPU has shader-f16
    const run = { weights: true, activations: true };
    expect(rankPrecision('fp16', run, 'f16', f16)).toMatch(new RegExp(`; ${F16_ARITHMETIC.replace(/[()]/g, '\\$&')}$`));
    expect(rankPrecision('fp16', run, 'f32', f16)).toMatch(
      /; f32 arithmetic \(asked for, though this GPU has shader-f16\)$/,
    );
    expect(rankPrecision('fp16', run, 'f32', plain)).toMatch(/; f32 arithmetic \(this GPU has no shader-f16\)$/);
    expect(rankPrecision(null, run, 'f32', f16)).toBe('fp32: every tensor and all arithmetic in f32');
  });
});
