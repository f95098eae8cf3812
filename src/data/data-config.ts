// The NeoX data keys and what they ask for: `data_path` (one dataset split by `split`, or a
// text file), or `train_data_paths` / `valid_data_paths` / `test_data_paths` (all three, each
// split blended from its datasets by `*_data_weights`, default equal, or by
// `weight_by_num_documents`), or nothing (tabtron's default corpus). Sample counts per split
// are NeoX's: train_iters × train_batch_size for train, (train_iters // eval_interval + 1) ×
// eval_iters × train_batch_size for validation, eval_iters × train_batch_size for test.

import type { SplitName } from './dataset';

export interface DataConfig {
  tokenizer_type: string;
  seq_length: number;
  seed: number;
  split: string;
  train_iters: number;
  eval_interval: number;
  eval_iters: number;
  /** NeoX's global batch (micro batch × accumulation × data-parallel replicas) */
  train_batch_size?: number;
  data_path?: string | null;
  train_data_paths?: string[] | null;
  valid_data_paths?: string[] | null;
  test_data_paths?: string[] | null;
  train_data_weights?: number[] | null;
  valid_data_weights?: number[] | null;
  test_data_weights?: number[] | null;
  weight_by_num_documents?: boolean;
  weighted_sampler_alpha?: number;
}

export const SPLITS: readonly SplitName[] = ['train', 'valid', 'test'];

export type DataPlan =
  | { mode: 'default' }
  | { mode: 'data_path'; path: string }
  | { mode: 'separate'; splits: Record<SplitName, { paths: string[]; weights: number[] }> };

export function dataPlan(c: DataConfig): DataPlan {
  const lists = { train: c.train_data_paths, valid: c.valid_data_paths, test: c.test_data_paths };
  const given = SPLITS.filter((s) => lists[s] != null);
  if (given.length === 0) return c.data_path ? { mode: 'data_path', path: c.data_path } : { mode: 'default' };
  if (given.length < 3)
    throw new Error(
      `${given.map((s) => `${s}_data_paths`).join(' and ')} given without ${SPLITS.filter((s) => !given.includes(s))
        .map((s) => `${s}_data_paths`)
        .join(' and ')}: NeoX needs all three (or data_path alone)`,
    );
  // with both, NeoX's loader reads the separate paths (its config check refuses both; tabtron warns)
  const weightsOf = { train: c.train_data_weights, valid: c.valid_data_weights, test: c.test_data_weights };
  const splits = {} as Record<SplitName, { paths: string[]; weights: number[] }>;
  for (const s of SPLITS) {
    const paths = lists[s]!;
    const weights = weightsOf[s] ?? paths.map(() => 1.0);
    if (weights.length !== paths.length)
      throw new Error(`${s}_data_weights has ${weights.length} entries but ${s}_data_paths has ${paths.length}`);
    splits[s] = { paths, weights };
  }
  return { mode: 'separate', splits };
}

/** Every file path the config names, once, in order. */
export function dataPaths(c: DataConfig): string[] {
  const p = dataPlan(c);
  if (p.mode === 'default') return [];
  if (p.mode === 'data_path') return [p.path];
  return [...new Set(SPLITS.flatMap((s) => p.splits[s].paths))];
}

/** NeoX's train/valid/test sample counts for a global batch of `globalBatch` sequences. */
export function splitSampleCounts(c: DataConfig, globalBatch: number): Record<SplitName, number> {
  const evalRounds = Math.floor(c.train_iters / c.eval_interval) + 1;
  return {
    train: c.train_iters * globalBatch,
    valid: evalRounds * c.eval_iters * globalBatch,
    test: c.eval_iters * globalBatch,
  };
}
