import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from './safetensors';
import { decodeRankFile, describeRankFile, encodeRankFile, rankStateOf } from './rank-file';
import { bits, layoutOf, randomModel, rankStates, tinySpec } from './test-fixtures';
import { rankFileName, rankOfFileName, writerRanks } from './layout';

describe('rank files', () => {
  const spec = tinySpec();
  const model = randomModel(spec);

  it('TP2×PP2: params and per-parameter moments by name with TP-local shapes; decodes to the same RankState bit for bit', () => {
    const layout = layoutOf(2, 2, 1);
    const states = rankStates(spec, model, layout);
    const s = states[3]; // tp 1, pp 1: layers 2-3, final norm, tied embed.wte copy
    const bytes = encodeRankFile(spec, layout, s);
    const { tensors, metadata } = readSafetensors(bytes);
    expect(tensors['param/layers.2.attn.qkv.weight'].shape).toEqual([24, 16]);
    expect(tensors['param/layers.3.attn.dense.weight'].shape).toEqual([16, 8]);
    expect(tensors['param/embed.wte'].shape).toEqual([32, 16]);
    expect(tensors['adam.v/layers.2.mlp.up.bias'].shape).toEqual([32]);
    expect(tensors['param/layers.0.ln1.weight']).toBeUndefined();
    expect(tensors['adam.m.flat']).toBeUndefined();
    expect(metadata).toMatchObject({
      format: 'tabtron-rank-checkpoint',
      version: '1',
      step: '10',
      moments: 'per-param',
    });
    expect(JSON.parse(metadata.coord)).toEqual({ rank: 3, tp: 1, pp: 1, dp: 0 });

    const back = rankStateOf(decodeRankFile(bytes, 'x'), 'x');
    expect(back.coord).toEqual(s.coord);
    expect(back.stage).toEqual(s.stage);
    expect(back.optRange).toEqual(s.optRange);
    expect(bits(back.params)).toEqual(bits(s.params));
    expect(bits(back.m)).toEqual(bits(s.m));
    expect(bits(back.v)).toEqual(bits(s.v));
  });

  it('ZeRO: every rank writes its flat moment shard with the range in metadata; only dp 0 writes params', () => {
    const layout = layoutOf(1, 1, 2, 1);
    const [r0, r1] = rankStates(spec, model, layout);
    expect(writerRanks(layout)).toEqual([0, 1]);
    const d1 = decodeRankFile(encodeRankFile(spec, layout, r1), 'r1');
    expect(d1.params).toBeNull();
    expect(d1.header.tensors.sort()).toEqual(['adam.m.flat', 'adam.v.flat']);
    expect(d1.header.optRange).toEqual(r1.optRange);
    expect(r1.optRange.end).toBeGreaterThan(d1.header.paramTotal); // the last shard reaches into the padding
    expect(bits(d1.m)).toEqual(bits(r1.m));
    expect(() => rankStateOf(d1, 'r1')).toThrow(/holds only its moment shard/);
    const d0 = decodeRankFile(encodeRankFile(spec, layout, r0), 'r0');
    expect(bits(d0.params!)).toEqual(bits(r0.params));
    expect(d0.header.tensors).toContain('param/embed.wpe');
  });

  it('refuses to encode states that do not fit the layout', () => {
    const layout = layoutOf(2, 1, 2);
    const states = rankStates(spec, model, layout);
    expect(writerRanks(layout)).toEqual([0, 1]);
    expect(() => encodeRankFile(spec, layout, states[2])).toThrow(/rank 2: dp 1 writes no file without ZeRO/);
    expect(() => encodeRankFile(spec, layout, { ...states[0], params: states[0].params.subarray(1) })).toThrow(
      /params has \d+ values, the stage's layout has/,
    );
    expect(() => encodeRankFile(spec, layout, { ...states[0], coord: { ...states[0].coord, tp: 1 } })).toThrow(
      /are not rank 0 of 2×1×2/,
    );
    expect(() =>
      encodeRankFile(spec, layout, {
        ...states[0],
        optRange: { start: 0, end: 64 },
        m: new Float32Array(64),
        v: new Float32Array(64),
      }),
    ).toThrow(/without ZeRO the moments must cover/);
  });

  it('describeRankFile names the file and the fault', () => {
    const layout = layoutOf(1, 1, 1);
    const good = encodeRankFile(spec, layout, rankStates(spec, model, layout)[0]);
    const { tensors, metadata } = readSafetensors(good);
    const rewrite = (md: Record<string, string>, drop?: string) => {
      const t = { ...tensors };
      if (drop) delete t[drop];
      return writeSafetensors(t as never, md);
    };
    expect(() => describeRankFile(rewrite({ ...metadata, format: 'other' }), 'a.safetensors')).toThrow(
      /a.safetensors: metadata format is "other"/,
    );
    expect(() => describeRankFile(rewrite({ ...metadata, version: '9' }), 'a')).toThrow(
      /format version 9 is not supported/,
    );
    expect(() => describeRankFile(rewrite({ ...metadata, coord: '{"rank":0}' }), 'a')).toThrow(
      /a: metadata coord: tp:/,
    );
    expect(() => describeRankFile(rewrite({ ...metadata, spec: 'nope' }), 'a')).toThrow(
      /a: metadata spec: not valid JSON/,
    );
    expect(() => describeRankFile(rewrite(metadata, 'adam.v/final_norm.bias'), 'a')).toThrow(
      /a: tensor adam.v\/final_norm.bias is missing/,
    );
    expect(() => describeRankFile(good.subarray(0, 6), 'short')).toThrow(/short: file is 6 bytes/);
  });

  it('file names', () => {
    expect(rankFileName(3)).toBe('rank_00003.safetensors');
    expect(rankOfFileName('rank_00012.safetensors')).toBe(12);
    expect(rankOfFileName('rank_3.safetensors')).toBeNull();
  });
});
