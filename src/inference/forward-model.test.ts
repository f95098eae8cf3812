// The forward-only WebGPU model (Dawn + SwiftShader here) against a float64 CPU forward pass
// written from transformers' GPTNeoX / GPT-2 code over the exported (HF-named) tensors: the
// logits, and the evaluation loss over windows with a padded last one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomModel, tinySpec } from '../checkpoint/test-fixtures';
import type { GpuContext } from '../gpu/context';
import { createNodeContext } from '../gpu/device-node';
import { tensorsToFlat } from '../hf/flat';
import { chooseArchitecture, hfConfigOf } from '../hf/hf-config';
import { hfReferenceLogits } from '../hf/hf-reference';
import { toHfTensors, type Tensors } from '../hf/weights';
import type { ModelSpec } from '../model/spec';
import { randint } from '../util/rng';
import { evaluateTokens, nextLogitsOf } from './evaluate';
import { ForwardModel } from './forward-model';
import { evalWindows } from './windows';
import { maxRelDiff } from '../util/max-rel-diff';

const base = { V: 96, C: 24, H: 3, hd: 8, F: 48, L: 3, T: 8, maxPos: 12 };
const variants: [string, ModelSpec][] = [
  [
    'GPTNeoX partial rotary, parallel residual, untied',
    tinySpec({ ...base, posEmb: 'rotary', rotaryDims: 4, parallelResidual: true, tied: false }),
  ],
  ['GPTNeoX full rotary, sequential, tied', tinySpec({ ...base, posEmb: 'rotary', rotaryDims: 8, rotaryBase: 100 })],
  ['GPT-2 learned positions, untied', tinySpec({ ...base, posEmb: 'learned', tied: false })],
  ['GPTNeoX without positions', tinySpec({ ...base, posEmb: 'none', normEps: 1e-6 })],
];

function model(s: ModelSpec): Tensors {
  const t: Tensors = new Map();
  for (const [k, f] of randomModel(s, 5)) t.set(k, { shape: [], data: f.param.map((x) => x * 0.3) });
  return t;
}

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createNodeContext({ preferSwiftShader: true });
});
afterAll(() => ctx?.device.destroy());

describe('ForwardModel', () => {
  it.each(variants)('%s: logits and eval loss match the float64 HF reference', async (_, s) => {
    const t = model(s);
    const cfg = JSON.parse(JSON.stringify(hfConfigOf(s, { eod: 0 })));
    const hf = toHfTensors(s, chooseArchitecture(s), t);
    const tokens = [...randint(3 * s.T - 2, s.V, 3)]; // 3 windows, the last one padded
    const m = new ForwardModel(ctx, s, 2);
    m.load(tensorsToFlat(s, t));
    // logits of the first window, row by row
    const w0 = tokens.slice(0, s.T);
    await m.forward(Int32Array.from([...w0, ...w0]));
    const ours = await m.logits();
    const ref = hfReferenceLogits(cfg, hf, w0);
    expect(
      maxRelDiff(
        ours.subarray(s.T * s.V, 2 * s.T * s.V),
        ref.flatMap((r) => [...r]),
      ),
    ).toBeLessThan(1e-5);
    // the mean loss over every window
    let sum = 0,
      n = 0;
    for (const w of evalWindows(tokens, s.T)) {
      const r = hfReferenceLogits(cfg, hf, [...w.inputs.subarray(0, w.count)]);
      for (let i = 0; i < w.count; i++) {
        const row = r[i];
        const mx = Math.max(...row);
        const lse = mx + Math.log(row.reduce((a, x) => a + Math.exp(x - mx), 0));
        sum += lse - row[w.targets[i]];
        n++;
      }
    }
    const ev = await evaluateTokens(m, tokens);
    expect(ev.tokens).toBe(tokens.length - 1);
    expect(ev.windows).toBe(3);
    expect(Math.abs(ev.loss - sum / n) / (sum / n)).toBeLessThan(1e-6);
    expect(ev.perplexity).toBeCloseTo(Math.exp(ev.loss), 10);
  });

  it('nextLogits reads the last real position of a padded window', async () => {
    const s = variants[0][1];
    const t = model(s);
    const m = new ForwardModel(ctx, s, 1);
    m.load(tensorsToFlat(s, t));
    const context = [5, 9, 17];
    const row = await nextLogitsOf(m)(context);
    const ref = hfReferenceLogits(
      JSON.parse(JSON.stringify(hfConfigOf(s, { eod: 0 }))),
      toHfTensors(s, 'GPTNeoXForCausalLM', t),
      context,
    );
    expect(maxRelDiff(row, ref[2])).toBeLessThan(1e-5);
    await expect(m.forward(Int32Array.from({ length: s.T }, () => s.V))).rejects.toThrow('outside the vocabulary');
  });
});
