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
