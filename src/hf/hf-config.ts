// tabtron's model spec ⇄ a Hugging Face config.json.
//
// Export picks the HF architecture that computes exactly tabtron's model:
//   rotary (or no) positions, LayerNorm, either residual  → GPTNeoXForCausalLM
//     (rotary_pct = rotary dims / head dim; no positions = rotary_pct 0)
//   learned positions, LayerNorm, sequential residual    → GPT2LMHeadModel
// and refuses, naming the NeoX key, what neither expresses: RMSNorm (both use LayerNorm),
// learned positions with the parallel (GPT-J) residual. Both use exact (erf) GELU as tabtron's
// kernel ("gelu"; GPT-2's own default "gelu_new" is the tanh approximation), biases on every
// linear layer, attention scaled by 1/sqrt(head dim), LayerNorm with the biased variance.
// Import reads a config as transformers does (absent keys take the class's defaults, because
// save_pretrained writes only the keys that differ from them) and refuses any setting whose
// math tabtron does not compute, naming the config.json key.

import type { ModelSpec } from '../model/spec';
import { HfError } from './errors';

export type HfArchitecture = 'GPTNeoXForCausalLM' | 'GPT2LMHeadModel';
export const HF_ARCHITECTURES: readonly HfArchitecture[] = ['GPTNeoXForCausalLM', 'GPT2LMHeadModel'];

export function chooseArchitecture(s: ModelSpec): HfArchitecture {
  if (s.norm !== 'layernorm')
    throw new HfError(
      `norm: "${s.norm}" has no Hugging Face equivalent here: GPTNeoXForCausalLM and GPT2LMHeadModel both use LayerNorm (norm: layernorm)`,
    );
  if (s.H * s.hd !== s.C) throw new HfError(`hidden_size ${s.C} is not num_attention_heads ${s.H} × head dim ${s.hd}`);
  if (s.posEmb === 'learned') {
    if (s.parallelResidual)
      throw new HfError(
        'gpt_j_residual: true with pos_emb: learned cannot be exported: GPTNeoXForCausalLM has no learned positions and GPT2LMHeadModel has only the sequential residual',
      );
    return 'GPT2LMHeadModel';
  }
  if (s.posEmb === 'rotary' && (s.rotaryDims % 2 !== 0 || s.rotaryDims <= 0 || s.rotaryDims > s.hd))
    throw new HfError(`rotary_pct: ${s.rotaryDims} rotary dims of head dim ${s.hd} (must be even, 2..${s.hd})`);
  return 'GPTNeoXForCausalLM';
}

/** A rotary_pct whose int(head_dim × pct) is exactly `dims` (as transformers computes it). */
export function rotaryPctFor(dims: number, hd: number): number {
  let pct = dims / hd;
  if (Math.trunc(hd * pct) !== dims) pct = (dims + 0.5) / hd;
  return pct;
}

export interface TokenizerIds {
  eod: number;
}

export function hfConfigOf(s: ModelSpec, tok: TokenizerIds): Record<string, unknown> {
  const arch = chooseArchitecture(s);
  const common = {
    architectures: [arch],
    vocab_size: s.V,
    initializer_range: s.initStd,
    tie_word_embeddings: s.tied,
    use_cache: true,
    bos_token_id: tok.eod,
    eos_token_id: tok.eod,
    torch_dtype: 'float32',
  };
  if (arch === 'GPT2LMHeadModel') {
    return {
      ...common,
      model_type: 'gpt2',
      n_embd: s.C,
      n_layer: s.L,
      n_head: s.H,
      n_inner: s.F,
      n_positions: s.maxPos,
      activation_function: 'gelu',
      resid_pdrop: s.hiddenDropout,
      embd_pdrop: s.hiddenDropout,
      attn_pdrop: s.attentionDropout,
      layer_norm_epsilon: s.normEps,
      scale_attn_weights: true,
      scale_attn_by_inverse_layer_idx: false,
      reorder_and_upcast_attn: false,
    };
  }
  const dims = s.posEmb === 'rotary' ? s.rotaryDims : 0;
  const pct = rotaryPctFor(dims, s.hd);
  return {
    ...common,
    model_type: 'gpt_neox',
    hidden_size: s.C,
    num_hidden_layers: s.L,
    num_attention_heads: s.H,
    intermediate_size: s.F,
    hidden_act: 'gelu',
    max_position_embeddings: s.maxPos,
    // transformers 4.x reads rotary_pct / rotary_emb_base, 5.x rope_parameters
    rotary_pct: pct,
    rotary_emb_base: s.rotaryBase,
    rope_parameters: { rope_type: 'default', rope_theta: s.rotaryBase, partial_rotary_factor: pct },
    use_parallel_residual: s.parallelResidual,
    layer_norm_eps: s.normEps,
    attention_bias: true,
    attention_dropout: s.attentionDropout,
    hidden_dropout: s.hiddenDropout,
  };
}

// ---- import ----

type Json = Record<string, unknown>;

class Reader {
  constructor(
    readonly cfg: Json,
    readonly source: string,
  ) {}
  fail(key: string, msg: string): never {
    throw new HfError(`${this.source}: ${key}: ${msg}`);
  }
  num(key: string, dflt: number, opts: { int?: boolean; min?: number } = {}): number {
    const v = this.cfg[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `expected a number, got ${JSON.stringify(v)}`);
    if (opts.int && !Number.isInteger(v)) this.fail(key, `expected an integer, got ${v}`);
    if (opts.min !== undefined && v < opts.min) this.fail(key, `must be at least ${opts.min}, got ${v}`);
    return v;
  }
  bool(key: string, dflt: boolean): boolean {
    const v = this.cfg[key] ?? dflt;
    if (typeof v !== 'boolean') this.fail(key, `expected true or false, got ${JSON.stringify(v)}`);
    return v;
  }
  str(key: string, dflt: string): string {
    const v = this.cfg[key] ?? dflt;
    if (typeof v !== 'string') this.fail(key, `expected a string, got ${JSON.stringify(v)}`);
    return v;
  }
}

export interface ImportedConfig {
  arch: HfArchitecture;
  spec: ModelSpec;
  warnings: string[];
}

export interface ImportOptions {
  /** sequence length for the spec (default: the model's maximum positions) */
  T?: number;
  seed?: number;
}

/** The architecture a config.json names (architectures, else model_type). */
export function architectureOf(cfg: Json, source: string): HfArchitecture {
  const archs = cfg.architectures;
  if (Array.isArray(archs) && archs.length > 0) {
    const known = archs.find((a): a is HfArchitecture => HF_ARCHITECTURES.includes(a as HfArchitecture));
    if (!known)
      throw new HfError(
        `${source}: architectures: ${JSON.stringify(archs)} is not supported (tabtron reads ${HF_ARCHITECTURES.join(', ')})`,
      );
    return known;
  }
  if (cfg.model_type === 'gpt_neox') return 'GPTNeoXForCausalLM';
  if (cfg.model_type === 'gpt2') return 'GPT2LMHeadModel';
  throw new HfError(
    `${source}: model_type: ${JSON.stringify(cfg.model_type)} is not supported (tabtron reads gpt_neox and gpt2 models)`,
  );
}

const EXACT_GELU = 'gelu';
const geluProblem = (v: string) =>
  `"${v}" is not tabtron's activation: tabtron computes exact (erf) GELU, which transformers calls "gelu"${v.includes('new') || v.includes('tanh') || v.includes('fast') ? ` ("${v}" is the tanh approximation)` : ''}`;

export function specOfHfConfig(cfg: Json, source: string, opts: ImportOptions = {}): ImportedConfig {
  const arch = architectureOf(cfg, source);
  return arch === 'GPT2LMHeadModel' ? gpt2Spec(new Reader(cfg, source), opts) : neoxSpec(new Reader(cfg, source), opts);
}

function base(r: Reader, C: number, H: number, maxPos: number, opts: ImportOptions) {
  if (C % H !== 0) r.fail('num_attention_heads', `hidden size ${C} is not divisible by ${H} heads`);
  const T = opts.T ?? maxPos;
  return { hd: C / H, T, seed: opts.seed ?? 1234, norm: 'layernorm' as const, initMethod: 'normal' as const };
}

function neoxSpec(r: Reader, opts: ImportOptions): ImportedConfig {
  const act = r.str('hidden_act', 'gelu');
  if (act !== EXACT_GELU) r.fail('hidden_act', geluProblem(act));
  if (!r.bool('attention_bias', true))
    r.fail('attention_bias', 'false (no attention biases) is not supported: tabtron always has them');
  const rope = (r.cfg.rope_parameters ?? r.cfg.rope_scaling ?? {}) as Json;
  if (typeof rope !== 'object' || rope === null) r.fail('rope_parameters', 'expected an object');
  const ropeType = rope.rope_type ?? rope.type ?? 'default';
  if (ropeType !== 'default')
    r.fail(
      r.cfg.rope_parameters ? 'rope_parameters.rope_type' : 'rope_scaling',
      `"${ropeType}" RoPE scaling is not supported (only plain RoPE)`,
    );
  const C = r.num('hidden_size', 6144, { int: true, min: 1 });
  const H = r.num('num_attention_heads', 64, { int: true, min: 1 });
  const maxPos = r.num('max_position_embeddings', 2048, { int: true, min: 1 });
  const b = base(r, C, H, maxPos, opts);
  const pctKey = rope.partial_rotary_factor !== undefined ? 'rope_parameters.partial_rotary_factor' : 'rotary_pct';
  const pct = (rope.partial_rotary_factor as number | undefined) ?? r.num('rotary_pct', 0.25);
  const thetaRaw = (rope.rope_theta as number | undefined) ?? r.num('rotary_emb_base', 10000);
  if (typeof pct !== 'number' || !(pct >= 0 && pct <= 1)) r.fail(pctKey, `must be a number in [0, 1], got ${pct}`);
  if (typeof thetaRaw !== 'number' || !(thetaRaw > 0))
    r.fail('rope_theta', `must be a positive number, got ${thetaRaw}`);
  const rotaryDims = Math.trunc(b.hd * pct);
  if (rotaryDims % 2 !== 0)
    r.fail(pctKey, `${pct} rotates ${rotaryDims} of ${b.hd} head dims; tabtron's rotary needs an even number`);
  const spec: ModelSpec = {
    V: r.num('vocab_size', 50432, { int: true, min: 1 }),
    C,
    L: r.num('num_hidden_layers', 44, { int: true, min: 0 }),
    H,
    hd: b.hd,
    F: r.num('intermediate_size', 24576, { int: true, min: 1 }),
    T: b.T,
    maxPos,
    norm: b.norm,
    normEps: r.num('layer_norm_eps', 1e-5, { min: 0 }),
    posEmb: rotaryDims > 0 ? 'rotary' : 'none',
    rotaryDims,
    rotaryBase: thetaRaw,
    tied: r.bool('tie_word_embeddings', false),
    parallelResidual: r.bool('use_parallel_residual', true),
    hiddenDropout: r.num('hidden_dropout', 0, { min: 0 }),
    attentionDropout: r.num('attention_dropout', 0, { min: 0 }),
    initStd: r.num('initializer_range', 0.02, { min: 0 }),
    initMethod: b.initMethod,
    outputInitMethod: b.initMethod,
    seed: b.seed,
  };
  return { arch: 'GPTNeoXForCausalLM', spec, warnings: [] };
}

function gpt2Spec(r: Reader, opts: ImportOptions): ImportedConfig {
  const act = r.str('activation_function', 'gelu_new');
  if (act !== EXACT_GELU) r.fail('activation_function', geluProblem(act));
  if (!r.bool('scale_attn_weights', true))
    r.fail('scale_attn_weights', 'false is not supported: tabtron scales attention by 1/sqrt(head dim)');
  if (r.bool('scale_attn_by_inverse_layer_idx', false))
    r.fail('scale_attn_by_inverse_layer_idx', 'true is not supported: tabtron scales every layer the same');
  if (r.bool('add_cross_attention', false)) r.fail('add_cross_attention', 'cross-attention is not supported');
  const C = r.num('n_embd', 768, { int: true, min: 1 });
  const H = r.num('n_head', 12, { int: true, min: 1 });
  const maxPos = r.num('n_positions', 1024, { int: true, min: 1 });
  const b = base(r, C, H, maxPos, opts);
  if (b.T > maxPos) r.fail('n_positions', `${maxPos} learned positions, fewer than seq_length ${b.T}`);
  const inner = r.cfg.n_inner == null ? 4 * C : r.num('n_inner', 4 * C, { int: true, min: 1 });
  const resid = r.num('resid_pdrop', 0.1, { min: 0 }),
    embd = r.num('embd_pdrop', 0.1, { min: 0 });
  const warnings =
    resid === embd
      ? []
      : [
          `${r.source}: embd_pdrop ${embd} differs from resid_pdrop ${resid}; tabtron uses one hidden_dropout (${resid})`,
        ];
  const spec: ModelSpec = {
    V: r.num('vocab_size', 50257, { int: true, min: 1 }),
    C,
    L: r.num('n_layer', 12, { int: true, min: 0 }),
    H,
    hd: b.hd,
    F: inner,
    T: b.T,
    maxPos,
    norm: b.norm,
    normEps: r.num('layer_norm_epsilon', 1e-5, { min: 0 }),
    posEmb: 'learned',
    rotaryDims: 0,
    rotaryBase: 10000,
    tied: r.bool('tie_word_embeddings', true),
    parallelResidual: false,
    hiddenDropout: resid,
    attentionDropout: r.num('attn_pdrop', 0.1, { min: 0 }),
    initStd: r.num('initializer_range', 0.02, { min: 0 }),
    initMethod: b.initMethod,
    outputInitMethod: b.initMethod,
    seed: b.seed,
  };
  return { arch: 'GPT2LMHeadModel', spec, warnings };
}
