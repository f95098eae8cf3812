// The ZeRO-2/3 window: every flat element of the stage in exactly one run; the rest packed
// first, every layer's runs at the same places of one shared region.
import { describe, expect, it } from 'vitest';
import { layoutParams, stageParamDefs } from './params';
import { paramWindow, REST, runsOf, windowOffset } from './param-window';
import type { ModelSpec } from './spec';

const spec: ModelSpec = {
  V: 256,
  C: 32,
  L: 3,
  H: 4,
  hd: 8,
  F: 128,
  T: 8,
  maxPos: 8,
  norm: 'layernorm',
  normEps: 1e-5,
  posEmb: 'learned',
  rotaryDims: 8,
  rotaryBase: 10000,
  tied: false,
  parallelResidual: false,
  hiddenDropout: 0,
  attentionDropout: 0,
  initStd: 0.02,
  initMethod: 'normal',
  outputInitMethod: 'normal',
  seed: 1,
};

describe('paramWindow', () => {
  const layout = layoutParams(
    stageParamDefs(spec, { firstLayer: 0, endLayer: 3, hasEmbedding: true, hasHead: true }, 2),
  );
  const w = paramWindow(layout);

  it('covers the flat layout with runs, each of one unit', () => {
    let at = 0;
    for (const r of w.runs) {
      expect(r.start).toBe(at);
      at = r.end;
    }
    expect(at).toBe(layout.total);
    for (const s of layout.slots) {
      const run = w.runs.find((r) => s.offset >= r.start && s.offset + s.length <= r.end)!;
      expect(run.unit).toBe(s.name.startsWith('layers.') ? Number(s.name.split('.')[1]) : REST);
    }
  });

  it('packs the rest first and puts every layer in the one region after it', () => {
    const rest = runsOf(w, REST);
    expect(rest.reduce((n, r) => n + r.end - r.start, 0)).toBe(w.restLength);
    const lengths = (u: number) => runsOf(w, u).map((r) => [r.at, r.end - r.start]);
    expect(lengths(1)).toEqual(lengths(0));
    expect(lengths(2)).toEqual(lengths(0));
    expect(runsOf(w, 0)[0].at).toBe(w.restLength);
    expect(w.length).toBe(w.restLength + w.layerLength);
    // each layer: its decayed TP-split weights, its replicated norms and biases, its TP-split biases
    expect(runsOf(w, 0)).toHaveLength(3);
    expect(w.layerLength * 3 + w.restLength).toBe(layout.total);
  });

  it('maps a tensor to its place in the window, and refuses a range across runs', () => {
    const s = layout.byName.get('layers.2.mlp.up.weight')!;
    const run = runsOf(w, 2).find((r) => s.offset >= r.start && s.offset < r.end)!;
    expect(windowOffset(w, s.offset, s.offset + s.length)).toBe(run.at + s.offset - run.start);
    expect(windowOffset(w, s.offset, s.offset + s.length) % 64).toBe(0);
    expect(() => windowOffset(w, 0, layout.total)).toThrow('not inside one run');
  });
});
