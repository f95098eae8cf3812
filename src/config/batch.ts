// The batch triplet for config validation: src/parallel's deriveBatch (the one implementation of
// DeepSpeed's train = micro × accumulation × dp), its failure as a ConfigError naming the three keys.

import { BATCH_KEYS, type Batch, type BatchGiven, deriveBatch as derive } from '../parallel/batch';
import { PlanError } from '../parallel/errors';
import { ConfigError } from './errors';

export type { Batch, BatchGiven };

export function deriveBatch(given: BatchGiven, dp: number): Batch {
  try {
    return derive(given, dp);
  } catch (e) {
    if (e instanceof PlanError) throw new ConfigError([{ keys: [...BATCH_KEYS], message: e.message }]);
    throw e;
  }
}
