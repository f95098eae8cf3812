// Deterministic initialisation: each NeoX init method draws from the distribution it names.
import { describe, expect, it } from 'vitest';
import { initParam } from './init';
import { paramDefs } from './params';
import type { InitKind, ModelSpec } from './spec';

const spec = (initMethod: InitKind): ModelSpec => ({
  V: 256,
  C: 64,
  L: 2,
  H: 4,
  hd: 16,
  F: 256,
  T: 8,
  maxPos: 8,
  norm: 'layernorm',
  normEps: 1e-5,
  posEmb: 'rotary',
  rotaryDims: 16,
  rotaryBase: 10000,
  tied: true,
  parallelResidual: false,
  hiddenDropout: 0,
  attentionDropout: 0,
  initStd: 0.02,
  initMethod,
  outputInitMethod: initMethod,
  seed: 7,
});

const def = (s: ModelSpec, name: string) => paramDefs(s).find((d) => d.name === name)!;

function moments(x: Float32Array): { mean: number; variance: number; min: number; max: number } {
  let sum = 0,
    sq = 0,
    min = Infinity,
    max = -Infinity;
  for (const v of x) {
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / x.length;
  return { mean, variance: sq / x.length - mean * mean, min, max };
}

describe('initParam', () => {
  it('xavier_uniform draws uniformly from ±sqrt(6 / (fan_in + fan_out)), torch fans of the whole weight', () => {
    const d = def(spec('xavier_uniform'), 'layers.0.mlp.up.weight'); // (F, C): fan_in C = 64, fan_out F = 256
    const bound = Math.sqrt(6 / (64 + 256));
    expect(d.init).toEqual({ kind: 'uniform', bound });
    const x = initParam(d, 7);
    const m = moments(x);
    expect(m.min).toBeGreaterThanOrEqual(-bound);
    expect(m.max).toBeLessThanOrEqual(bound);
    // the draw fills the interval: extremes near the bounds, variance bound²/3 = 2 / (fan_in + fan_out)
    expect(m.min).toBeLessThan(-0.999 * bound);
    expect(m.max).toBeGreaterThan(0.999 * bound);
    expect(Math.abs(m.mean)).toBeLessThan(0.01 * bound);
    expect(m.variance / (2 / (64 + 256))).toBeCloseTo(1, 1);
    // flat: each tenth of the interval gets a tenth of the draws (a normal would pile up in the middle)
    const bins = new Array<number>(10).fill(0);
    for (const v of x) bins[Math.min(9, Math.floor(((v + bound) / (2 * bound)) * 10))]++;
    for (const b of bins) expect(Math.abs(b / x.length - 0.1)).toBeLessThan(0.01);
  });

  it('xavier_uniform is deterministic per (seed, name), like the normal draws', () => {
    const s = spec('xavier_uniform');
    const d = def(s, 'layers.1.attn.qkv.weight');
    expect(initParam(d, 7)).toEqual(initParam(d, 7));
    expect(initParam(d, 8)).not.toEqual(initParam(d, 7));
    expect(initParam(def(s, 'layers.0.attn.qkv.weight'), 7)).not.toEqual(initParam(d, 7));
    // the embedding (V, C) as torch sees it: fan_in C, fan_out V
    expect(def(s, 'embed.wte').init).toEqual({ kind: 'uniform', bound: Math.sqrt(6 / (64 + 256)) });
  });

  it('xavier_normal draws a normal with std sqrt(2 / (fan_in + fan_out))', () => {
    const d = def(spec('xavier_normal'), 'layers.0.mlp.up.weight');
    const std = Math.sqrt(2 / (64 + 256));
    expect(d.init).toEqual({ kind: 'normal', std });
    const m = moments(initParam(d, 7));
    expect(Math.sqrt(m.variance) / std).toBeCloseTo(1, 1);
    expect(m.max).toBeGreaterThan(3 * std); // tails a uniform of the same variance (±1.73 std) has not
  });
});
