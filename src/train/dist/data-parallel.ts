// Data parallelism: after gradient accumulation, every replica's gradients are averaged with
// one ring all-reduce over the DP group (each rank's loss is already a mean over its own
// tokens, so the average is the gradient of the global mean loss).
import type { GroupSpec } from '../../comm/worker-bridge';
import type { Trainer } from '../trainer';
import type { RankComm } from './rank-comm';

export function dpGradReducer(comm: RankComm, group: GroupSpec): (t: Trainer) => Promise<void> {
  return async (t) => {
    if (group.ranks.length === 1) return;
    const grads = await t.readGrads();
    t.writeGrads(await comm.allReduce(grads, group, 'avg'));
  };
}

export function dpLossReducer(comm: RankComm, group: GroupSpec): (loss: number) => Promise<number> {
  return async (loss) => {
    if (group.ranks.length === 1) return loss;
    return (await comm.allReduce(Float32Array.of(loss), { ...group, name: `${group.name ?? group.ranks.join(',')}:loss` }, 'avg'))[0];
  };
}
