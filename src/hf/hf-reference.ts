// A float64 CPU forward pass of a Hugging Face GPTNeoXForCausalLM or GPT2LMHeadModel, written
// from transformers' model code and reading only config.json's keys and the HF-named tensors.
// It checks an export without transformers (tests): tabtron's logits on WebGPU against this.
// Tiny models only (a few layers, tens of positions).

import { erf } from '../reference/gelu';
import type { Tensor } from './weights';

type Cfg = Record<string, unknown>;
type Vec = Float64Array;

const num = (c: Cfg, k: string, d: number) => (c[k] as number | undefined) ?? d;

function get(w: ReadonlyMap<string, Tensor>, name: string, prefix: string): Float32Array {
  const t = w.get(name) ?? w.get(name.slice(prefix.length));
  if (!t) throw new Error(`reference: no tensor ${name}`);
  return t.data;
}

/** y = W x + b with W (out, in) (torch Linear) or, when `conv`, (in, out) (GPT-2's Conv1D) */
function linear(x: Vec, W: Float32Array, b: Float32Array | null, out: number, conv = false): Vec {
  const inp = x.length,
    y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < inp; i++) s += (conv ? W[i * out + o] : W[o * inp + i]) * x[i];
    y[o] = s;
  }
  return y;
}

function layerNorm(x: Vec, w: Float32Array, b: Float32Array, eps: number): Vec {
  const n = x.length;
  const mean = x.reduce((a, v) => a + v, 0) / n;
  const vr = x.reduce((a, v) => a + (v - mean) ** 2, 0) / n;
  const r = 1 / Math.sqrt(vr + eps);
  return x.map((v, i) => (v - mean) * r * w[i] + b[i]);
}

const gelu = (x: Vec) => x.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
const add = (a: Vec, b: Vec) => a.map((v, i) => v + b[i]);

/** q, k: (T, hd) of one head, rotated in place on their first `rd` dims (rotate_half style) */
function rope(x: Vec[], rd: number, base: number): void {
  const half = rd / 2;
  x.forEach((v, t) => {
    const r = Float64Array.from(v);
    for (let i = 0; i < rd; i++) {
      const j = i % half;
      const f = Math.fround(1 / Math.fround(base ** Math.fround((2 * j) / rd)));
      const ang = Math.fround(t * f);
      const rot = i < half ? -v[i + half] : v[i - half];
      r[i] = v[i] * Math.cos(ang) + rot * Math.sin(ang);
    }
    v.set(r);
  });
}

/** causal attention of one head: q, k, v (T, hd) → (T, hd) */
function attend(q: Vec[], k: Vec[], v: Vec[]): Vec[] {
  const hd = q[0].length;
  return q.map((qt, t) => {
    const s = k.slice(0, t + 1).map((ks) => ks.reduce((a, x, i) => a + x * qt[i], 0) / Math.sqrt(hd));
    const m = Math.max(...s);
    const e = s.map((x) => Math.exp(x - m));
    const z = e.reduce((a, x) => a + x, 0);
    const o = new Float64Array(hd);
    e.forEach((p, u) => {
      for (let i = 0; i < hd; i++) o[i] += (p / z) * v[u][i];
    });
    return o;
  });
}

/** logits (T rows of V) of every position of `tokens` */
export function hfReferenceLogits(cfg: Cfg, w: ReadonlyMap<string, Tensor>, tokens: readonly number[]): Vec[] {
  const neox = cfg.model_type === 'gpt_neox';
  const P = neox ? 'gpt_neox.' : 'transformer.';
  const g = (n: string) => get(w, n, P);
  const C = num(cfg, neox ? 'hidden_size' : 'n_embd', 0),
    H = num(cfg, neox ? 'num_attention_heads' : 'n_head', 0),
    L = num(cfg, neox ? 'num_hidden_layers' : 'n_layer', 0),
    F = num(cfg, neox ? 'intermediate_size' : 'n_inner', 4 * C),
    V = num(cfg, 'vocab_size', 0),
    eps = num(cfg, neox ? 'layer_norm_eps' : 'layer_norm_epsilon', 1e-5);
  const hd = C / H;
  const rope_ = (cfg.rope_parameters ?? {}) as Cfg;
  const rd = Math.trunc(hd * num(rope_, 'partial_rotary_factor', num(cfg, 'rotary_pct', 0.25)));
  const base = num(rope_, 'rope_theta', num(cfg, 'rotary_emb_base', 10000));
  const wte = g(neox ? `${P}embed_in.weight` : `${P}wte.weight`);
  let x: Vec[] = tokens.map((tok, t) => {
    const e = Float64Array.from(wte.subarray(tok * C, (tok + 1) * C));
    if (!neox) {
      const wpe = g(`${P}wpe.weight`);
      for (let i = 0; i < C; i++) e[i] += wpe[t * C + i];
    }
    return e;
  });
  for (let l = 0; l < L; l++) {
    const p = neox ? `${P}layers.${l}.` : `${P}h.${l}.`;
    const n1 = neox ? 'input_layernorm' : 'ln_1',
      n2 = neox ? 'post_attention_layernorm' : 'ln_2';
    const qkvName = neox ? 'attention.query_key_value' : 'attn.c_attn';
    const qkv = x.map((xt) =>
      linear(
        layerNorm(xt, g(`${p}${n1}.weight`), g(`${p}${n1}.bias`), eps),
        g(`${p}${qkvName}.weight`),
        g(`${p}${qkvName}.bias`),
        3 * C,
        !neox,
      ),
    );
    const heads: Vec[][] = [];
    for (let h = 0; h < H; h++) {
      // NeoX: per token (H, 3, hd); GPT-2: [Q | K | V], each (H, hd)
      const part = (j: number) => qkv.map((r) => r.slice(neox ? h * 3 * hd + j * hd : j * C + h * hd).subarray(0, hd));
      const [q, k, v] = [part(0), part(1), part(2)];
      if (neox && rd > 0) {
        rope(q, rd, base);
        rope(k, rd, base);
      }
      heads.push(attend(q, k, v));
    }
    const denseName = neox ? 'attention.dense' : 'attn.c_proj';
    const attn = x.map((_, t) => {
      const merged = new Float64Array(C);
      heads.forEach((o, h) => merged.set(o[t], h * hd));
      return linear(merged, g(`${p}${denseName}.weight`), g(`${p}${denseName}.bias`), C, !neox);
    });
    const [up, down] = neox ? ['mlp.dense_h_to_4h', 'mlp.dense_4h_to_h'] : ['mlp.c_fc', 'mlp.c_proj'];
    const mlp = (y: Vec) =>
      linear(
        gelu(
          linear(
            layerNorm(y, g(`${p}${n2}.weight`), g(`${p}${n2}.bias`), eps),
            g(`${p}${up}.weight`),
            g(`${p}${up}.bias`),
            F,
            !neox,
          ),
        ),
        g(`${p}${down}.weight`),
        g(`${p}${down}.bias`),
        C,
        !neox,
      );
    const parallel = neox && (cfg.use_parallel_residual as boolean | undefined) !== false;
    x = x.map((xt, t) => {
      if (parallel) return add(add(xt, attn[t]), mlp(xt));
      const y = add(xt, attn[t]);
      return add(y, mlp(y));
    });
  }
  const fn = neox ? `${P}final_layer_norm` : `${P}ln_f`;
  const tied = (cfg.tie_word_embeddings as boolean | undefined) ?? !neox;
  const head = tied ? wte : get(w, neox ? 'embed_out.weight' : 'lm_head.weight', '');
  return x.map((xt) => linear(layerNorm(xt, g(`${fn}.weight`), g(`${fn}.bias`), eps), head, null, V));
}
