import { describe, expect, it } from 'vitest';
import { tinySpec } from '../checkpoint/test-fixtures';
import { chooseArchitecture, hfConfigOf, rotaryPctFor, specOfHfConfig } from './hf-config';

const rotary = tinySpec({
  C: 32,
  H: 4,
  hd: 8,
  posEmb: 'rotary',
  rotaryDims: 4,
  rotaryBase: 500,
  parallelResidual: true,
});

describe('export config', () => {
  it('GPTNeoX: every field NeoX convert_neox_to_hf.py sets, plus activation, dropouts and RoPE as transformers 5 reads it', () => {
    const c = hfConfigOf({ ...rotary, tied: false, normEps: 1e-6, initStd: 0.01, maxPos: 64 }, { eod: 50256 });
    expect(c).toMatchObject({
      architectures: ['GPTNeoXForCausalLM'],
      model_type: 'gpt_neox',
      vocab_size: 64, // the padded vocabulary
      hidden_size: 32,
      num_hidden_layers: 4,
      num_attention_heads: 4,
      max_position_embeddings: 64,
      initializer_range: 0.01,
      tie_word_embeddings: false,
      use_cache: true,
      rotary_pct: 0.5,
      rotary_emb_base: 500,
      use_parallel_residual: true,
      layer_norm_eps: 1e-6,
      intermediate_size: 64,
      hidden_act: 'gelu',
      attention_bias: true,
      attention_dropout: 0,
      hidden_dropout: 0,
      rope_parameters: { rope_type: 'default', rope_theta: 500, partial_rotary_factor: 0.5 },
      bos_token_id: 50256,
      eos_token_id: 50256,
    });
  });

  it('no positions is rotary_pct 0; learned positions with the sequential residual is GPT-2', () => {
    expect(hfConfigOf(tinySpec({ posEmb: 'none' }), { eod: 0 })).toMatchObject({ rotary_pct: 0 });
    const g = hfConfigOf(tinySpec({ posEmb: 'learned', maxPos: 32, hiddenDropout: 0.1 }), { eod: 0 });
    expect(g).toMatchObject({
      architectures: ['GPT2LMHeadModel'],
      model_type: 'gpt2',
      n_embd: 16,
      n_layer: 4,
      n_head: 4,
      n_inner: 64,
      n_positions: 32,
      activation_function: 'gelu',
      resid_pdrop: 0.1,
      embd_pdrop: 0.1,
      scale_attn_weights: true,
      tie_word_embeddings: true,
    });
  });

  it('refuses what neither architecture computes, naming the NeoX key', () => {
    expect(() => chooseArchitecture(tinySpec({ norm: 'rmsnorm', posEmb: 'rotary', rotaryDims: 4 }))).toThrow(
      /^norm: "rmsnorm"/,
    );
    expect(() => chooseArchitecture(tinySpec({ posEmb: 'learned', parallelResidual: true }))).toThrow(
      /^gpt_j_residual: true with pos_emb: learned/,
    );
  });

  it('picks a rotary_pct whose int(head_dim × pct) is the rotary dims', () => {
    for (const hd of [6, 12, 24, 40, 80, 96, 112, 160])
      for (let d = 2; d <= hd; d += 2) expect(Math.trunc(hd * rotaryPctFor(d, hd))).toBe(d);
  });
});

describe('import config', () => {
  it('round-trips every exported spec', () => {
    for (const s of [
      rotary,
      { ...rotary, parallelResidual: false, tied: false, rotaryDims: 8 },
      tinySpec({ posEmb: 'none' }),
      tinySpec({ posEmb: 'learned', maxPos: 32, hiddenDropout: 0.1, attentionDropout: 0.2 }),
    ]) {
      const cfg = JSON.parse(JSON.stringify(hfConfigOf(s, { eod: 0 })));
      const back = specOfHfConfig(cfg, 'config.json', { T: s.T, seed: s.seed }).spec;
      expect({ ...back, initMethod: s.initMethod, outputInitMethod: s.outputInitMethod }).toEqual({
        ...s,
        ...(s.posEmb === 'none' ? { rotaryDims: 0 } : {}),
      });
    }
  });

  it('fills absent keys with the transformers class defaults (save_pretrained writes only the differences)', () => {
    const { spec } = specOfHfConfig({ model_type: 'gpt_neox', hidden_size: 64, num_attention_heads: 4 }, 'c');
    expect(spec).toMatchObject({
      V: 50432,
      L: 44,
      F: 24576,
      maxPos: 2048,
      T: 2048,
      rotaryDims: 4, // 0.25 × 16
      rotaryBase: 10000,
      parallelResidual: true,
      tied: false,
      normEps: 1e-5,
    });
    const g = specOfHfConfig({ model_type: 'gpt2', activation_function: 'gelu', n_embd: 32, n_head: 4 }, 'c').spec;
    expect(g).toMatchObject({ V: 50257, L: 12, F: 128, maxPos: 1024, tied: true, hiddenDropout: 0.1 });
  });

  it('refuses settings tabtron does not compute, naming the config.json key', () => {
    const base = { architectures: ['GPTNeoXForCausalLM'], hidden_size: 32, num_attention_heads: 4 };
    expect(() => specOfHfConfig({ ...base, hidden_act: 'gelu_new' }, 'm/config.json')).toThrow(
      /^m\/config\.json: hidden_act: "gelu_new" .*tanh approximation/,
    );
    expect(() => specOfHfConfig({ ...base, attention_bias: false }, 'c')).toThrow('c: attention_bias');
    expect(() => specOfHfConfig({ ...base, rope_scaling: { type: 'linear', factor: 2 } }, 'c')).toThrow(
      'c: rope_scaling: "linear"',
    );
    expect(() => specOfHfConfig({ ...base, rotary_pct: 0.375 }, 'c')).toThrow(/c: rotary_pct: .*3 of 8/);
    expect(() => specOfHfConfig({ ...base, architectures: ['LlamaForCausalLM'] }, 'c')).toThrow('c: architectures');
    expect(() => specOfHfConfig({ model_type: 'gpt2' }, 'c')).toThrow('c: activation_function: "gelu_new"');
    expect(() => specOfHfConfig({ ...base, num_hidden_layers: 'two' }, 'c')).toThrow(
      'c: num_hidden_layers: expected a number',
    );
  });
});
