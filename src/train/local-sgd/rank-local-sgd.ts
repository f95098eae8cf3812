// LocalSgd for one rank of the GPU trainer: the trainer's flat parameters as ParamIo (a
// fragment is read back and written with one copy each), and the average over the rank's
// data-parallel group as a compressed ring over its point-to-point messages. What the rank
// loop calls (see README, "Training over slow links"):
//   const sgd = await rankLocalSgd(config.local_sgd, trainer, comm, place.dpGroup.ranks, steps);
//   ... after each inner step (trainer.step = steps done):
//   for (const r of await sgd.afterStep(trainer.step, io)) emit({ kind: 'round', ...r });
import type { LocalSgdConfig } from '../../config/local-sgd';
import type { PointToPoint } from '../../comm/compress/compressed-ring';
import type { Trainer } from '../trainer';
import { LocalSgd, localSgdSettings, type ParamIo } from './local-sgd';
import { ringAverage } from './replica-average';

export function trainerParamIo(t: Trainer): ParamIo {
  const params = t.flatParams();
  return {
    read: (r) => t.ctx.read({ ...params, offset: r.start * 4, length: r.end - r.start, shape: [r.end - r.start] }),
    write: (values, offset) => t.writeParams(values, offset),
  };
}

/** A LocalSgd whose start point is the trainer's current parameters (identical on every replica). */
export async function rankLocalSgd(
  c: LocalSgdConfig,
  t: Trainer,
  comm: PointToPoint,
  dpRanks: readonly number[],
  totalSteps: number,
): Promise<{ sgd: LocalSgd; io: ParamIo }> {
  const params = await t.readParams();
  const sgd = new LocalSgd(localSgdSettings(c), {
    length: params.length,
    totalSteps,
    allReduce: ringAverage(comm, dpRanks),
  });
  sgd.begin(params);
  return { sgd, io: trainerParamIo(t) };
}
