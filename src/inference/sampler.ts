// Choosing the next token from a row of logits (pure; the random draw comes from the caller):
// temperature 0 is greedy (the first largest logit); otherwise logits / temperature, cut to
// the top k (k = 0: no cut), softmax in f64, one uniform draw. Only ids below `vocabSize`
// (the tokenizer's, without the model's padding rows) can be chosen.

export interface SamplingOptions {
  /** 0 = greedy */
  temperature: number;
  /** keep the k most likely tokens; 0 = all */
  topK: number;
  /** ids >= vocabSize (vocabulary padding) are never chosen */
  vocabSize: number;
}

export function checkSampling(o: SamplingOptions): void {
  if (!(o.temperature >= 0) || !Number.isFinite(o.temperature))
    throw new Error(`temperature must be a number >= 0, got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new Error(`top-k must be an integer >= 0, got ${o.topK}`);
  if (!Number.isInteger(o.vocabSize) || o.vocabSize < 1) throw new Error(`vocabSize must be >= 1, got ${o.vocabSize}`);
}

/** (V) logits → a token id in [0, min(V, vocabSize)); `uniform` returns a number in [0, 1). */
export function sampleToken(logits: ArrayLike<number>, o: SamplingOptions, uniform: () => number): number {
  checkSampling(o);
  const n = Math.min(logits.length, o.vocabSize);
  if (n === 0) throw new Error('sampleToken: no logits');
  let best = 0;
  for (let i = 1; i < n; i++) if (logits[i] > logits[best]) best = i;
  if (o.temperature === 0) return best;
  let ids = Array.from({ length: n }, (_, i) => i);
  if (o.topK > 0 && o.topK < n) ids = ids.sort((a, b) => logits[b] - logits[a] || a - b).slice(0, o.topK);
  const max = logits[best] / o.temperature;
  const weights = ids.map((i) => Math.exp(logits[i] / o.temperature - max));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = uniform() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= weights[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1];
}
