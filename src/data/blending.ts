// Blending several datasets as NeoX does (`train_data_paths` + `train_data_weights`):
// each dataset is asked for ceil(samples × weight × 1.005) samples
// (get_normalized_weights_and_num_samples), and BlendableDataset interleaves them with the
// greedy rule of NeoX's C++ build_blending_indices: sample i comes from the dataset furthest
// below its share so far. `weight_by_num_documents` weights are weights_by_num_docs.

/** numpy's float64 sum (pairwise, 8 accumulators), so normalised weights match to the last bit. */
export function numpySum(a: ArrayLike<number>, start = 0, n = a.length): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => a[start + j]);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, start, n2) + numpySum(a, start + n2, n - n2);
}

/** Weights normalised by their (Python) sum, and each dataset's sample count with NeoX's 0.5% margin. */
export function normalizedWeightsAndSamples(
  weights: readonly number[],
  numSamples: number,
): { weights: number[]; samples: number[] } {
  let sum = 0;
  for (const w of weights) sum += w;
  if (!(sum > 0)) throw new Error(`data weights must have a positive sum, got [${weights.join(', ')}]`);
  const normalized = weights.map((w) => w / sum);
  return { weights: normalized, samples: normalized.map((w) => Math.ceil(numSamples * w * 1.005)) };
}

/** NeoX's weights_by_num_docs: p(L) ∝ |L|^alpha, times (1 − |L|/total), normalised. */
export function weightsByNumDocs(docs: readonly number[], alpha: number): number[] {
  if (docs.length === 1) return [1.0];
  let total = 0;
  for (const d of docs) total += d;
  const unbiased = docs.map((d) => d / total);
  const probs = unbiased.map((p) => p ** alpha);
  let probSum = 0;
  for (const p of probs) probSum += p;
  const weights = probs.map((p, i) => (p / probSum) * (1 - unbiased[i]));
  let weightSum = 0;
  for (const w of weights) weightSum += w;
  return weights.map((w) => w / weightSum);
}

export interface BlendIndices {
  /** which dataset sample i comes from */
  dataset: Uint8Array;
  /** its index in that dataset */
  sample: Float64Array;
}

/** BlendableDataset's indices for `size` samples over datasets with these weights. */
export function buildBlendingIndices(weights: readonly number[], size: number): BlendIndices {
  if (weights.length >= 255) throw new Error(`at most 254 datasets can be blended, got ${weights.length}`);
  const sum = numpySum(weights);
  if (!(sum > 0)) throw new Error(`data weights must have a positive sum, got [${weights.join(', ')}]`);
  const w = weights.map((x) => x / sum);
  const dataset = new Uint8Array(size);
  const sample = new Float64Array(size);
  const taken = new Float64Array(w.length);
  for (let i = 0; i < size; i++) {
    const at = Math.max(i, 1);
    let best = 0;
    let bestError = w[0] * at - taken[0];
    for (let d = 1; d < w.length; d++) {
      const error = w[d] * at - taken[d];
      if (error > bestError) {
        bestError = error;
        best = d;
      }
    }
    dataset[i] = best;
    sample[i] = taken[best]++;
  }
  return { dataset, sample };
}
