// The backward's mark steps (which gradients are finished where) are what the data-parallel
// buckets trust: checked against what the recorded dispatches actually bind. After the mark that
// names a parameter, no dispatch of the pass may touch its gradient.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tinySpec } from '../checkpoint/test-fixtures';
import type { GpuContext } from '../gpu/context';
import { createNodeContext } from '../gpu/device-node';
import { dispatchTouches } from '../gpu/dispatch';
import { Gpt, type GptOptions } from './gpt';
import { marksOf, type Program } from './program';
import type { ModelSpec } from './spec';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await createNodeContext({ preferSwiftShader: true });
});
afterAll(() => ctx?.device.destroy());

/** Every dispatch after the mark naming a parameter leaves its gradient alone. */
function checkMarks(model: Gpt, program: Program): void {
  let marks = 0;
  const finishedAt = new Map<string, number>();
  for (const step of program) {
    if (step.kind === 'mark') {
      for (const n of step.finished) finishedAt.set(n, marks);
      marks++;
    } else if (step.kind === 'gpu') {
      for (const d of step.dispatches)
        for (const name of finishedAt.keys()) {
          const g = model.param(name, true);
          const hit = dispatchTouches(d, { buffer: g.buffer, offset: g.offset, size: g.length * 4 });
          expect(hit, `${d.label} touches d${name} after its mark`).toBe(false);
        }
    } else if (step.kind === 'clear') {
      expect(step.tensor.buffer).not.toBe(model.grads);
    }
  }
}

const spec = tinySpec({ L: 3, C: 16, H: 2, hd: 8, F: 64, V: 64, T: 8, maxPos: 8 });
const cases: [string, ModelSpec, GptOptions][] = [
  ['whole model, tied', spec, {}],
  [
    'untied, rotary, parallel residual, dropout',
    {
      ...spec,
      tied: false,
      posEmb: 'rotary',
      rotaryDims: 8,
      parallelResidual: true,
      hiddenDropout: 0.1,
      attentionDropout: 0.1,
    },
    {},
  ],
  ['activation recompute', spec, { recomputeLayers: 2 }],
  [
    'last stage holding the tied copy of embed.wte',
    spec,
    { stage: { firstLayer: 2, endLayer: 3, hasEmbedding: false, hasHead: true } },
  ],
  ['first stage', spec, { stage: { firstLayer: 0, endLayer: 2, hasEmbedding: true, hasHead: false } }],
  ['tensor-parallel rank 1 of 2', spec, { tp: { size: 2, rank: 1 } }],
];

describe('backward marks', () => {
  it.each(cases)('%s: every parameter is named once, and untouched after its mark', (_, s, opts) => {
    const model = new Gpt(ctx, s, 2, 1, opts);
    const program = model.slots[0].backward;
    checkMarks(model, program);
    const named = marksOf(program).flat();
    expect(new Set(named).size).toBe(named.length);
    expect([...named].sort()).toEqual(model.layout.slots.map((x) => x.name).sort());
    // the layers' marks come before the end: buckets can be reduced during the backward
    expect(marksOf(program).length).toBeGreaterThan(1);
  });
});

describe('interleaved 1F1B: one set of passes per model chunk', () => {
  const four = { ...spec, L: 4 };
  it.each([
    [
      'first stage, chunks [0, 1) and [2, 3)',
      {
        hasEmbedding: true,
        hasHead: false,
        chunks: [
          [0, 1],
          [2, 3],
        ],
      },
    ],
    [
      'last stage, chunks [1, 2) and [3, 4)',
      {
        hasEmbedding: false,
        hasHead: true,
        chunks: [
          [1, 2],
          [3, 4],
        ],
      },
    ],
  ] as const)('%s: each chunk marks its own parameters, together all of the stage', (_, st) => {
    const chunks = st.chunks.map(([a, b]): [number, number] => [a, b]);
    const stage = { ...st, chunks, firstLayer: chunks[0][0], endLayer: chunks[1][1] };
    const model = new Gpt(ctx, four, 2, 1, { stage, slots: 2 });
    expect(model.slots.map((s) => [s.chunk, s.range.firstLayer, s.range.hasEmbedding, s.range.hasHead])).toEqual([
      [0, chunks[0][0], st.hasEmbedding, false],
      [0, chunks[0][0], st.hasEmbedding, false],
      [1, chunks[1][0], false, st.hasHead],
      [1, chunks[1][0], false, st.hasHead],
    ]);
    expect(model.slotIndex(1, 1)).toBe(3);
    expect(model.headSlot).toBe(model.slots[2]);
    const named = [0, 2].flatMap((k) => {
      checkMarks(model, model.slots[k].backward);
      const names = marksOf(model.slots[k].backward).flat();
      const layers = new Set(names.filter((n) => n.startsWith('layers.')).map((n) => Number(n.split('.')[1])));
      expect([...layers]).toEqual([chunks[model.slots[k].chunk][0]]);
      return names;
    });
    expect(new Set(named).size).toBe(named.length);
    expect([...named].sort()).toEqual(model.layout.slots.map((x) => x.name).sort());
  });
});

describe('start-up on a CPU fallback adapter (SwiftShader), where each pipeline takes seconds to compile', () => {
  it('every model above compiled one matmul_direct pipeline per transposition, plus the fused GELU backward', () => {
    new Gpt(ctx, { ...spec, parallelResidual: true }, 2, 1, { recomputeLayers: 1 });
    expect(ctx.adapter?.isFallbackAdapter).toBe(true);
    const matmuls = ctx.compiledPipelines().filter((k) => k.startsWith('matmul'));
    const constants = (k: string) => JSON.parse(k.slice(k.indexOf('|') + 1)) as Record<string, number>;
    // no tiled kernel, no forward bias or bias + GELU epilogue
    expect(matmuls.map((k) => [k.split('|')[0], constants(k).EPILOGUE]).sort()).toEqual([
      ['matmul_direct_nn', 0],
      ['matmul_direct_nn', 3],
      ['matmul_direct_nt', 0],
      ['matmul_direct_tn', 0],
    ]);
  });
});
