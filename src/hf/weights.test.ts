import { describe, expect, it } from 'vitest';
import { bits, randomModel, tinySpec } from '../checkpoint/test-fixtures';
import type { ModelSpec } from '../model/spec';
import { chooseArchitecture } from './hf-config';
import { fromHfTensors, toHfTensors, type Tensors } from './weights';

const tensorsOf = (s: ModelSpec): Tensors =>
  new Map([...randomModel(s)].map(([k, f]) => [k, { shape: [], data: f.param }]));

const variants: [string, ModelSpec][] = [
  ['GPTNeoX untied', tinySpec({ posEmb: 'rotary', rotaryDims: 2, tied: false, parallelResidual: true })],
  ['GPTNeoX tied', tinySpec({ posEmb: 'rotary', rotaryDims: 4 })],
  ['GPT-2 tied', tinySpec({ posEmb: 'learned' })],
  ['GPT-2 untied', tinySpec({ posEmb: 'learned', tied: false })],
];

describe('HF tensors', () => {
  it.each(variants)('%s: export → import gives back every tensor bit for bit', (_, s) => {
    const arch = chooseArchitecture(s);
    const t = tensorsOf(s);
    const hf = toHfTensors(s, arch, t);
    expect(hf.has(arch === 'GPT2LMHeadModel' ? 'lm_head.weight' : 'embed_out.weight')).toBe(!s.tied);
    const back = fromHfTensors(s, arch, hf, 'dir');
    expect([...back.keys()].sort()).toEqual([...t.keys()].sort());
    for (const [k, v] of t) expect(bits(back.get(k)!.data), k).toEqual(bits(v.data));
  });

  it('GPTNeoX keeps tabtron layouts; GPT-2 transposes Conv1D weights and splits c_attn into Q | K | V', () => {
    const n = tinySpec({ posEmb: 'rotary', rotaryDims: 4 });
    const t = tensorsOf(n);
    const hf = toHfTensors(n, 'GPTNeoXForCausalLM', t);
    const qkv = hf.get('gpt_neox.layers.1.attention.query_key_value.weight')!;
    expect(qkv.shape).toEqual([48, 16]);
    expect(bits(qkv.data)).toEqual(bits(t.get('layers.1.attn.qkv.weight')!.data));
    const g = tinySpec({ posEmb: 'learned' });
    const tg = tensorsOf(g);
    const h2 = toHfTensors(g, 'GPT2LMHeadModel', tg);
    const cAttn = h2.get('transformer.h.0.attn.c_attn.weight')!; // (C, 3C) = (16, 48)
    expect(cAttn.shape).toEqual([16, 48]);
    const W = tg.get('layers.0.attn.qkv.weight')!.data; // (3C, C): row h·3hd + j·hd + d
    const C = 16;
    // k of head 2, feature 1: tabtron row 2·12 + 1·4 + 1 = 29 → c_attn column 1·16 + 2·4 + 1 = 25
    for (let i = 0; i < C; i++) expect(cAttn.data[i * 3 * C + 25]).toBe(W[29 * C + i]);
    expect(h2.get('transformer.h.0.mlp.c_fc.weight')!.shape).toEqual([16, 64]);
    expect(h2.get('transformer.wpe.weight')!.shape).toEqual([8, 16]);
  });

  it('reads names without the base-model prefix and ignores old attention mask buffers', () => {
    const s = tinySpec({ posEmb: 'learned' });
    const hf = toHfTensors(s, 'GPT2LMHeadModel', tensorsOf(s));
    const bare: Tensors = new Map([...hf].map(([k, v]) => [k.replace(/^transformer\./, ''), v]));
    bare.set('h.0.attn.bias', { shape: [1, 1, 8, 8], data: new Float32Array(64) });
    expect(fromHfTensors(s, 'GPT2LMHeadModel', bare, 'dir').size).toBe(hf.size);
  });

  it('names the missing, misshaped or unexpected tensor', () => {
    const s = tinySpec({ posEmb: 'rotary', rotaryDims: 4 });
    const hf = toHfTensors(s, 'GPTNeoXForCausalLM', tensorsOf(s));
    const missing = new Map(hf);
    missing.delete('gpt_neox.layers.2.mlp.dense_4h_to_h.bias');
    expect(() => fromHfTensors(s, 'GPTNeoXForCausalLM', missing, 'dir')).toThrow(
      "dir: tensor gpt_neox.layers.2.mlp.dense_4h_to_h.bias is missing (tabtron's layers.2.mlp.down.bias, shape [16])",
    );
    const wrong = new Map(hf);
    wrong.set('gpt_neox.embed_in.weight', { shape: [65, 16], data: new Float32Array(65 * 16) });
    expect(() => fromHfTensors(s, 'GPTNeoXForCausalLM', wrong, 'dir')).toThrow(
      'dir: tensor gpt_neox.embed_in.weight has shape [65,16], the config implies [64,16]',
    );
    const extra = new Map(hf);
    extra.set('gpt_neox.layers.4.attention.dense.weight', { shape: [16, 16], data: new Float32Array(256) });
    expect(() => fromHfTensors(s, 'GPTNeoXForCausalLM', extra, 'dir')).toThrow(
      'dir: tensor gpt_neox.layers.4.attention.dense.weight not part of the model',
    );
  });
});
