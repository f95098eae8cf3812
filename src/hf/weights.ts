// tabtron's parameters ⇄ a Hugging Face model's state dict: names, shapes and layouts.
//
//   tabtron                    GPTNeoXForCausalLM                           GPT2LMHeadModel
//   embed.wte (V, C)           gpt_neox.embed_in.weight                     transformer.wte.weight
//   embed.wpe (P, C)           —                                            transformer.wpe.weight
//   layers.l.ln1.*             gpt_neox.layers.l.input_layernorm.*          transformer.h.l.ln_1.*
//   layers.l.attn.qkv.* (3C…)  …attention.query_key_value.* (same layout)   …attn.c_attn.* (split Q|K|V, (C, 3C))
//   layers.l.attn.dense.*      …attention.dense.*                           …attn.c_proj.* ((in, out))
//   layers.l.ln2.*             …post_attention_layernorm.*                  …ln_2.*
//   layers.l.mlp.up.* (F, C)   …mlp.dense_h_to_4h.*                         …mlp.c_fc.* ((C, F))
//   layers.l.mlp.down.* (C, F) …mlp.dense_4h_to_h.*                         …mlp.c_proj.* ((F, C))
//   final_norm.*               gpt_neox.final_layer_norm.*                  transformer.ln_f.*
//   head.weight (untied only)  embed_out.weight                             lm_head.weight
// With tied embeddings the head is left out, as save_pretrained leaves it out.

import { paramDefs } from '../model/params';
import type { ModelSpec } from '../model/spec';
import { HfError } from './errors';
import type { HfArchitecture } from './hf-config';
import { qkvInterleavedToSplit, qkvSplitToInterleaved, transpose } from './layout-ops';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}
export type Tensors = Map<string, Tensor>;

interface Rule {
  hf: string;
  /** tabtron's (full) shape */
  shape: number[];
  hfShape: number[];
  toHf(a: Float32Array): Float32Array;
  fromHf(a: Float32Array): Float32Array;
}

const same = (a: Float32Array) => a;

const NEOX_LAYER: Record<string, string> = {
  'ln1.weight': 'input_layernorm.weight',
  'ln1.bias': 'input_layernorm.bias',
  'attn.qkv.weight': 'attention.query_key_value.weight',
  'attn.qkv.bias': 'attention.query_key_value.bias',
  'attn.dense.weight': 'attention.dense.weight',
  'attn.dense.bias': 'attention.dense.bias',
  'ln2.weight': 'post_attention_layernorm.weight',
  'ln2.bias': 'post_attention_layernorm.bias',
  'mlp.up.weight': 'mlp.dense_h_to_4h.weight',
  'mlp.up.bias': 'mlp.dense_h_to_4h.bias',
  'mlp.down.weight': 'mlp.dense_4h_to_h.weight',
  'mlp.down.bias': 'mlp.dense_4h_to_h.bias',
};

const GPT2_LAYER: Record<string, string> = {
  'ln1.weight': 'ln_1.weight',
  'ln1.bias': 'ln_1.bias',
  'attn.qkv.weight': 'attn.c_attn.weight',
  'attn.qkv.bias': 'attn.c_attn.bias',
  'attn.dense.weight': 'attn.c_proj.weight',
  'attn.dense.bias': 'attn.c_proj.bias',
  'ln2.weight': 'ln_2.weight',
  'ln2.bias': 'ln_2.bias',
  'mlp.up.weight': 'mlp.c_fc.weight',
  'mlp.up.bias': 'mlp.c_fc.bias',
  'mlp.down.weight': 'mlp.c_proj.weight',
  'mlp.down.bias': 'mlp.c_proj.bias',
};

const TOP: Record<HfArchitecture, Record<string, string>> = {
  GPTNeoXForCausalLM: {
    'embed.wte': 'gpt_neox.embed_in.weight',
    'final_norm.weight': 'gpt_neox.final_layer_norm.weight',
    'final_norm.bias': 'gpt_neox.final_layer_norm.bias',
    'head.weight': 'embed_out.weight',
  },
  GPT2LMHeadModel: {
    'embed.wte': 'transformer.wte.weight',
    'embed.wpe': 'transformer.wpe.weight',
    'final_norm.weight': 'transformer.ln_f.weight',
    'final_norm.bias': 'transformer.ln_f.bias',
    'head.weight': 'lm_head.weight',
  },
};

/** The HF tensor for each of the spec's parameters (tabtron name → rule). */
export function hfRules(s: ModelSpec, arch: HfArchitecture): Map<string, Rule> {
  const rules = new Map<string, Rule>();
  for (const d of paramDefs(s)) {
    const m = /^layers\.(\d+)\.(.+)$/.exec(d.name);
    const layerPrefix = arch === 'GPTNeoXForCausalLM' ? 'gpt_neox.layers' : 'transformer.h';
    const hf = m
      ? `${layerPrefix}.${m[1]}.${(arch === 'GPTNeoXForCausalLM' ? NEOX_LAYER : GPT2_LAYER)[m[2]]}`
      : TOP[arch][d.name];
    if (!hf || hf.endsWith('undefined')) throw new HfError(`${arch} has no tensor for tabtron's ${d.name}`);
    rules.set(d.name, ruleFor(d.name, d.fullShape, hf, arch, s));
  }
  return rules;
}

function ruleFor(name: string, shape: number[], hf: string, arch: HfArchitecture, s: ModelSpec): Rule {
  const plain = { hf, shape, hfShape: shape, toHf: same, fromHf: same };
  if (arch !== 'GPT2LMHeadModel' || shape.length !== 2 || name.startsWith('embed.') || name === 'head.weight')
    return name.endsWith('attn.qkv.bias') && arch === 'GPT2LMHeadModel'
      ? {
          ...plain,
          toHf: (a) => qkvInterleavedToSplit(a, s.H, s.hd),
          fromHf: (a) => qkvSplitToInterleaved(a, s.H, s.hd),
        }
      : plain;
  // GPT-2 Conv1D weights: (in, out); c_attn's rows also split into Q | K | V
  const [out, inp] = shape;
  const isQkv = name.endsWith('attn.qkv.weight');
  return {
    hf,
    shape,
    hfShape: [inp, out],
    toHf: (a) => transpose(isQkv ? qkvInterleavedToSplit(a, s.H, s.hd, inp) : a, out, inp),
    fromHf: (a) => {
      const t = transpose(a, inp, out);
      return isQkv ? qkvSplitToInterleaved(t, s.H, s.hd, inp) : t;
    },
  };
}

/** tabtron's full tensors (every parameter of the spec) → HF's. */
export function toHfTensors(s: ModelSpec, arch: HfArchitecture, tensors: ReadonlyMap<string, Tensor>): Tensors {
  const out: Tensors = new Map();
  for (const [name, rule] of hfRules(s, arch)) {
    const t = tensors.get(name);
    if (!t) throw new HfError(`the model has no tensor ${name}`);
    out.set(rule.hf, { shape: rule.hfShape, data: rule.toHf(t.data) });
  }
  return out;
}

/** Prefixes a saved model may drop (a base model saved alone: GPTNeoXModel, GPT2Model). */
const BASE_PREFIX: Record<HfArchitecture, string> = {
  GPTNeoXForCausalLM: 'gpt_neox.',
  GPT2LMHeadModel: 'transformer.',
};
/** Buffers older transformers saved with the weights (causal masks): not parameters. */
const IGNORED = /\.attn\.(bias|masked_bias)$|\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)$/;

/** An HF state dict → tabtron's full tensors; `source` names the model in errors. */
export function fromHfTensors(
  s: ModelSpec,
  arch: HfArchitecture,
  hf: ReadonlyMap<string, Tensor>,
  source: string,
): Tensors {
  const prefix = BASE_PREFIX[arch];
  const keyOf = (name: string): string | undefined =>
    hf.has(name)
      ? name
      : name.startsWith(prefix) && hf.has(name.slice(prefix.length))
        ? name.slice(prefix.length)
        : undefined;
  const out: Tensors = new Map();
  const used = new Set<string>();
  for (const [name, rule] of hfRules(s, arch)) {
    const key = keyOf(rule.hf);
    if (key === undefined)
      throw new HfError(`${source}: tensor ${rule.hf} is missing (tabtron's ${name}, shape [${rule.hfShape}])`);
    const t = hf.get(key)!;
    if (t.shape.join(',') !== rule.hfShape.join(','))
      throw new HfError(`${source}: tensor ${rule.hf} has shape [${t.shape}], the config implies [${rule.hfShape}]`);
    used.add(key);
    out.set(name, { shape: rule.shape, data: rule.fromHf(t.data) });
  }
  const head = TOP[arch]['head.weight'];
  const extra = [...hf.keys()].filter((k) => !used.has(k) && !IGNORED.test(k) && !(s.tied && k === head));
  if (extra.length)
    throw new HfError(
      `${source}: tensor${extra.length > 1 ? 's' : ''} ${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ` (and ${extra.length - 4} more)` : ''} not part of the model the config describes`,
    );
  return out;
}
