// The layout a membership generation trains in, and the rank's place in it. TP and PP come
// from the config; DP may be smaller than the config's while replicas are missing, with
// gradient accumulation raised so the global batch (and so the loss curve) stays the same.
import type { ElasticLayout } from '../../protocol';
import { planFromConfig } from '../../parallel/from-config';
import type { Plan } from '../../parallel/plan';
import type { TrainConfig } from '../setup';

export type { ElasticLayout };

/** The config as if it had been written for `layout` (same global batch when DP changes). */
export function configFor(c: TrainConfig, layout: ElasticLayout): TrainConfig & Record<string, unknown> {
  const micro = c.train_micro_batch_size_per_gpu ?? 1;
  return {
    ...c,
    global_num_gpus: layout.tp * layout.pp * layout.dp,
    gradient_accumulation_steps: layout.accum,
    train_batch_size: micro * layout.accum * layout.dp,
  };
}

export function worldOf(layout: ElasticLayout): number {
  return layout.tp * layout.pp * layout.dp;
}

/** The plan for `layout`, checked to be the layout it was asked for. */
export function planFor(c: TrainConfig, layout: ElasticLayout): Plan {
  const { plan } = planFromConfig(configFor(c, layout), { world: worldOf(layout) });
  const got = { tp: plan.tp, pp: plan.pp, dp: plan.dp, accum: plan.gradient_accumulation_steps };
  if (got.tp !== layout.tp || got.pp !== layout.pp || got.dp !== layout.dp || got.accum !== layout.accum)
    throw new Error(`layout ${JSON.stringify(layout)} does not fit the config (planned ${JSON.stringify(got)})`);
  return plan;
}

/** The layout the config asks for (all replicas present). */
export function configuredLayout(c: TrainConfig, world: number): ElasticLayout {
  const { plan } = planFromConfig(c, { world });
  return { tp: plan.tp, pp: plan.pp, dp: plan.dp, accum: plan.gradient_accumulation_steps };
}
