import { describe, expect, it } from 'vitest';
import { tinySpec } from '../../checkpoint/test-fixtures';
import { fullModel, layoutParams, stageParamDefs } from '../../model/params';
import { bucketTarget, gradBuckets } from './grad-buckets';

// The marks a backward makes (gpt.ts): head, then layers last to first, then the embedding.
function marksFor(names: string[], L: number): string[][] {
  const head = names.filter((n) => n.startsWith('final_norm.') || n === 'head.weight');
  const layers = Array.from({ length: L }, (_, i) => names.filter((n) => n.startsWith(`layers.${L - 1 - i}.`)));
  const embed = names.filter((n) => n.startsWith('embed.'));
  return [head, ...layers, embed];
}

describe('gradBuckets', () => {
  const spec = tinySpec({ L: 6, C: 32, H: 4, hd: 8, F: 128, V: 64, tied: false, posEmb: 'learned' });
  const layout = layoutParams(stageParamDefs(spec, fullModel(spec)));
  const flat = layout.total + 128; // padded, as ZeRO pads
  const names = layout.slots.map((s) => s.name);
  const marks = marksFor(names, spec.L);
  const readyOf = (name: string) => marks.findIndex((m) => m.includes(name));

  it('covers the flat vector once, each bucket issued only after all its gradients are final', () => {
    const target = 4096;
    const buckets = gradBuckets(layout, flat, marks, target);
    const sorted = [...buckets].sort((a, b) => a.start - b.start);
    expect(sorted[0].start).toBe(0);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i].start).toBe(sorted[i - 1].end);
    expect(sorted[sorted.length - 1].end).toBe(flat);
    for (const s of layout.slots) {
      const b = buckets.find((x) => s.offset >= x.start && s.offset < x.end)!;
      expect(s.offset + s.length, s.name).toBeLessThanOrEqual(b.end);
      expect(readyOf(s.name), s.name).toBeLessThanOrEqual(b.readyAt);
    }
    // issue order: by readiness, then offset (every replica issues them in this order)
    for (let i = 1; i < buckets.length; i++) {
      const [a, b] = [buckets[i - 1], buckets[i]];
      expect(a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.start < b.start)).toBe(true);
    }
  });

  it("a layer's weights become ready with its own backward, not the end of the pass", () => {
    const buckets = gradBuckets(layout, flat, marks, 4096);
    const last = layout.byName.get(`layers.${spec.L - 1}.mlp.up.weight`)!;
    const b = buckets.find((x) => last.offset >= x.start && last.offset < x.end)!;
    expect(b.readyAt).toBe(1); // mark 1: the last layer's backward
    expect(new Set(buckets.map((x) => x.readyAt)).size).toBeGreaterThan(spec.L / 2);
  });

  it('leaves a separately reduced range out (a tied embedding)', () => {
    const wte = layout.byName.get('embed.wte')!;
    const sep = { start: wte.offset, end: wte.offset + wte.length };
    const buckets = gradBuckets(layout, flat, marks, 4096, sep);
    for (const b of buckets) expect(b.end <= sep.start || b.start >= sep.end).toBe(true);
    const covered = buckets.reduce((a, b) => a + b.end - b.start, 0);
    expect(covered).toBe(flat - wte.length);
  });

  it('one bucket when the target is larger than the vector; a parameter no mark names waits for the end', () => {
    const one = gradBuckets(layout, flat, marks, flat * 8);
    expect(one).toEqual([{ start: 0, end: flat, readyAt: marks.length - 1 }]);
    const unnamed = gradBuckets(layout, flat, [], 4096);
    expect(unnamed.every((b) => b.readyAt === 0)).toBe(true); // marks.length = 0: the end
  });

  it('targets 2M elements, or an eighth of a smaller vector', () => {
    expect(bucketTarget(1e9)).toBe(2 ** 21);
    expect(bucketTarget(80_000)).toBe(10_000);
  });
});
