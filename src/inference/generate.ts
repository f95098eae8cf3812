// Text generation as a loop over "logits of the next token given the context" (pure: the
// model is a function the caller provides, so the same loop serves the CLI's forward-only
// WebGPU model, a training rank's model, or a CPU reference). The context given to the model
// is the last `window` tokens (its sequence length), so long generations slide the window.

import { Rng } from '../util/rng';
import { sampleToken, type SamplingOptions } from './sampler';

/** logits (at least vocabSize values) of the token that follows `context` (1..window tokens) */
export type NextLogits = (context: readonly number[]) => Promise<ArrayLike<number>>;

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  /** the model's context length: only the last `window` tokens are given to nextLogits */
  window: number;
  seed: number;
  /** stop after producing this token (e.g. the end-of-document id); it is included */
  stopToken?: number;
  /** called with each new token as it is chosen */
  onToken?: (token: number) => void;
}

/** The new tokens (not the prompt). An empty prompt must be given a start token by the caller. */
export async function generateTokens(
  prompt: readonly number[],
  nextLogits: NextLogits,
  o: GenerateOptions,
): Promise<number[]> {
  if (prompt.length === 0) throw new Error('generate: the prompt has no tokens');
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0)
    throw new Error(`max-new-tokens must be an integer >= 0, got ${o.maxNewTokens}`);
  if (!Number.isInteger(o.window) || o.window < 1) throw new Error(`window must be >= 1, got ${o.window}`);
  const rng = new Rng(o.seed);
  const all = [...prompt];
  const out: number[] = [];
  while (out.length < o.maxNewTokens) {
    const logits = await nextLogits(all.slice(-o.window));
    const token = sampleToken(logits, o, () => rng.uniform());
    all.push(token);
    out.push(token);
    o.onToken?.(token);
    if (token === o.stopToken) break;
  }
  return out;
}

/** NextLogits for a model that runs a fixed window of T tokens: the context is padded with 0
 *  after its end (causal attention: padding never changes earlier positions) and the logits
 *  are read at its last position. `logitsAt` runs the model on the T tokens and returns the
 *  row of logits at `position`. */
export function windowedNextLogits(
  T: number,
  logitsAt: (tokens: Int32Array, position: number) => Promise<ArrayLike<number>>,
): NextLogits {
  return async (context) => {
    if (context.length < 1 || context.length > T)
      throw new Error(`nextLogits: context of ${context.length} tokens, the window is 1..${T}`);
    const tokens = new Int32Array(T);
    tokens.set(context);
    return logitsAt(tokens, context.length - 1);
  };
}

export interface TextTokenizer {
  readonly eod: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

/** The continuation of `prompt` as text (an empty prompt starts from the end-of-document token). */
export async function generateText(
  tokenizer: TextTokenizer,
  prompt: string,
  nextLogits: NextLogits,
  o: GenerateOptions,
): Promise<{ text: string; tokens: number[] }> {
  const ids = tokenizer.encode(prompt);
  const tokens = await generateTokens(ids.length ? ids : [tokenizer.eod], nextLogits, o);
  return { text: tokenizer.decode(tokens), tokens };
}
