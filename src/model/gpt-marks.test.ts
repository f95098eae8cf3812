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
