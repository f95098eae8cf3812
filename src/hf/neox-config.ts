// The NeoX config of an imported model: its architecture as NeoX keys (so that tabtron builds
// exactly the model the checkpoint holds), the tokenizer, `load` pointing at the checkpoint,
// and training keys for fine-tuning — the user's (--config extra.yml) over modest defaults.
// A model key the user also set to another value is an error naming the key.

import { canonicalKey } from '../config/parse';
import { padVocab, type ModelSpec } from '../model/spec';
import { HfError } from './errors';
import { rotaryPctFor } from './hf-config';
import type { TokenizerName } from './tokenizer-files';

const TOKENIZER_SIZE: Record<TokenizerName, number> = { GPT2BPETokenizer: 50257, CharLevelTokenizer: 256 };

/** A make_vocab_size_divisible_by that pads the tokenizer's vocabulary to exactly V (the
 *  largest power of two that does, else the smallest divisor of V that does). */
export function divisibleByFor(V: number, tokenizer: TokenizerName): number {
  const base = TOKENIZER_SIZE[tokenizer];
  if (V < base)
    throw new HfError(`vocab_size ${V} is smaller than ${tokenizer}'s ${base} tokens: its ids would not fit the model`);
  for (let d = 2 ** Math.floor(Math.log2(V)); d >= 1; d /= 2) if (V % d === 0 && padVocab(base, d) === V) return d;
  for (let d = V - base + 1; d <= V; d++) if (V % d === 0 && padVocab(base, d) === V) return d;
  return V;
}

/** The NeoX keys (underscore spelling) that make tabtron build `spec`. */
export function neoxModelKeys(s: ModelSpec, tokenizer: TokenizerName): Record<string, unknown> {
  return {
    num_layers: s.L,
    hidden_size: s.C,
    num_attention_heads: s.H,
    seq_length: s.T,
    max_position_embeddings: s.maxPos,
    intermediate_size: s.F,
    norm: s.norm,
    ...(s.norm === 'layernorm' ? { layernorm_epsilon: s.normEps } : { rms_norm_epsilon: s.normEps }),
    pos_emb: s.posEmb,
    ...(s.posEmb === 'rotary' ? { rotary_pct: rotaryPctFor(s.rotaryDims, s.hd), rotary_emb_base: s.rotaryBase } : {}),
    no_weight_tying: !s.tied,
    gpt_j_residual: s.parallelResidual,
    activation: 'gelu',
    hidden_dropout: s.hiddenDropout,
    attention_dropout: s.attentionDropout,
    init_method: s.initMethod,
    output_layer_init_method: s.outputInitMethod,
    init_method_std: s.initStd,
    tokenizer_type: tokenizer,
    make_vocab_size_divisible_by: divisibleByFor(s.V, tokenizer),
  };
}

/** Fine-tuning defaults, used where the user's config does not say. */
export const FINETUNE_DEFAULTS: Record<string, unknown> = {
  pipe_parallel_size: 0,
  model_parallel_size: 1,
  optimizer: { type: 'Adam', params: { lr: 1.0e-5, betas: [0.9, 0.95], eps: 1.0e-8 } },
  min_lr: 1.0e-6,
  train_micro_batch_size_per_gpu: 4,
  gradient_accumulation_steps: 1,
  gradient_clipping: 1.0,
  weight_decay: 0.0,
  fp16: { enabled: false },
  train_iters: 100,
  lr_decay_style: 'cosine',
  warmup: 0.01,
  split: '949,50,1',
  eval_interval: 50,
  eval_iters: 4,
  log_interval: 10,
  seed: 1234,
};

/** The spec with what a fine-tuning config may choose: seq_length, dropouts and seed. */
export function withUserTraining(s: ModelSpec, user: Record<string, unknown>, userSource: string): ModelSpec {
  const get = (key: string) => {
    const e = Object.entries(user).find(([k]) => canonicalKey(k) === key);
    if (e && (typeof e[1] !== 'number' || !Number.isFinite(e[1])))
      throw new HfError(`${userSource}: ${e[0]}: expected a number, got ${JSON.stringify(e[1])}`);
    return e?.[1] as number | undefined;
  };
  const T = get('seq_length') ?? s.T;
  if (s.posEmb === 'learned' && T > s.maxPos)
    throw new HfError(`${userSource}: seq_length ${T} is more than the model's ${s.maxPos} learned positions`);
  return {
    ...s,
    T,
    hiddenDropout: get('hidden_dropout') ?? s.hiddenDropout,
    attentionDropout: get('attention_dropout') ?? s.attentionDropout,
    seed: get('seed') ?? s.seed,
  };
}

/** defaults < user (extra.yml) < the model's keys and `load`; throws on a user model key that disagrees. */
export function neoxConfigFor(
  s: ModelSpec,
  tokenizer: TokenizerName,
  load: string,
  user: Record<string, unknown> = {},
  userSource = 'the extra config',
): Record<string, unknown> {
  const model = neoxModelKeys(s, tokenizer);
  const userCanon = new Map(Object.entries(user).map(([k, v]) => [canonicalKey(k), { k, v }]));
  for (const [k, v] of Object.entries(model)) {
    const u = userCanon.get(k);
    if (u && JSON.stringify(u.v) !== JSON.stringify(v))
      throw new HfError(
        `${userSource}: ${u.k}: ${JSON.stringify(u.v)} differs from the imported model's ${JSON.stringify(v)} (model keys come from the Hugging Face config)`,
      );
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(FINETUNE_DEFAULTS)) if (!userCanon.has(k)) out[k] = v;
  for (const { k, v } of userCanon.values()) out[canonicalKey(k)] = v;
  for (const [k, v] of Object.entries(model)) out[k] = v;
  out.load = load;
  return out;
}
