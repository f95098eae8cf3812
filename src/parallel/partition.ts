// Splitting the pipeline's layer list over stages (NeoX `pipe-partition-method`):
//   uniform          transformer layers split evenly (the first stages take one extra when
//                    they do not divide), embedding with the first, norm + head with the last;
//   parameters       contiguous parts whose largest parameter count is as small as possible;
//   type:<regex>     the same, counting only layers whose NeoX class name matches <regex>
//                    ("type:transformer" balances transformer layers).
// Balanced parts: first the smallest achievable maximum, then, among partitions that reach it,
// the one with the smallest sum of squared part weights (the most even one).

import { PlanError } from './errors';
import type { PipeItem } from './params';

export type PartitionMethod = 'uniform' | 'parameters' | `type:${string}`;

/** Part boundaries over item indices: part p holds items [bounds[p], bounds[p+1]). */
export function partitionLayers(items: readonly PipeItem[], parts: number, method: string): number[] {
  const numLayers = items.filter((it) => it.type === 'ParallelTransformerLayerPipe').length;
  if (parts > numLayers) {
    throw new PlanError(
      `more pipeline stages than layers: ${parts} stage${parts === 1 ? '' : 's'} for num_layers ${numLayers}`,
    );
  }
  if (method === 'uniform') return uniformBounds(items, parts);
  if (method === 'parameters')
    return balancedBounds(
      items.map((it) => it.params),
      parts,
    );
  if (method.startsWith('type:')) {
    const pattern = method.slice(5);
    let re: RegExp;
    try {
      re = new RegExp(pattern, 'i');
    } catch (e) {
      throw new PlanError(`pipe_partition_method "${method}": invalid regular expression (${(e as Error).message})`);
    }
    const weights = items.map((it) => (re.test(it.type) ? 1 : 0));
    if (!weights.some((w) => w > 0)) {
      const types = [...new Set(items.map((it) => it.type))].join(', ');
      throw new PlanError(`pipe_partition_method "${method}" matches no layer (layer types: ${types})`);
    }
    return balancedBounds(weights, parts);
  }
  throw new PlanError(`pipe_partition_method "${method}" is not one of uniform, parameters, type:<regex>`);
}

function uniformBounds(items: readonly PipeItem[], parts: number): number[] {
  const layerIdx = items.flatMap((it, i) => (it.type === 'ParallelTransformerLayerPipe' ? [i] : []));
  const base = Math.floor(layerIdx.length / parts);
  const extra = layerIdx.length % parts;
  const bounds = [0];
  let taken = 0;
  for (let p = 1; p < parts; p++) {
    taken += base + (p <= extra ? 1 : 0);
    bounds.push(layerIdx[taken]);
  }
  bounds.push(items.length);
  return bounds;
}

/** Contiguous split of `weights` into `parts` non-empty parts: min-max, then min sum of squares. */
export function balancedBounds(weights: readonly number[], parts: number): number[] {
  const n = weights.length;
  if (parts < 1 || parts > n) throw new PlanError(`cannot split ${n} layers into ${parts} parts`);
  const prefix = [0];
  for (const w of weights) prefix.push(prefix[prefix.length - 1] + w);
  const sum = (i: number, j: number) => prefix[j] - prefix[i];

  // best[k][j]: smallest possible maximum when the first j items form k parts.
  const best = table(parts + 1, n + 1, Infinity);
  best[0][0] = 0;
  for (let k = 1; k <= parts; k++) {
    for (let j = k; j <= n; j++) {
      for (let i = k - 1; i < j; i++) best[k][j] = Math.min(best[k][j], Math.max(best[k - 1][i], sum(i, j)));
    }
  }
  const limit = best[parts][n];

  // Among splits whose parts all stay within `limit`, the most even one.
  const scale = Math.max(1, ...weights);
  const sq = table(parts + 1, n + 1, Infinity);
  const from = table(parts + 1, n + 1, -1);
  sq[0][0] = 0;
  for (let k = 1; k <= parts; k++) {
    for (let j = k; j <= n; j++) {
      for (let i = k - 1; i < j; i++) {
        const w = sum(i, j);
        if (w > limit || sq[k - 1][i] === Infinity) continue;
        const cost = sq[k - 1][i] + (w / scale) ** 2;
        if (cost < sq[k][j] - 1e-12) {
          sq[k][j] = cost;
          from[k][j] = i;
        }
      }
    }
  }
  const bounds = [n];
  for (let k = parts, j = n; k > 0; k--) {
    j = from[k][j];
    bounds.unshift(j);
  }
  return bounds;
}

function table(rows: number, cols: number, fill: number): number[][] {
  return Array.from({ length: rows }, () => new Array<number>(cols).fill(fill));
}
