// The data-parallel average LocalSgd needs, as a compressed ring over point-to-point messages:
// the rank worker's RankComm (send/recv over the page bridge) or a Transport (tests, Node ranks).
import { compressedAllReduce, ringBytesSent, type PointToPoint } from '../../comm/compress/compressed-ring';
import type { ReplicaAverage } from './local-sgd';

/** `ranks`: the data-parallel group (global ranks, the same order on every member). */
export function ringAverage(p2p: PointToPoint, ranks: readonly number[]): ReplicaAverage {
  const position = ranks.indexOf(p2p.rank);
  if (position < 0) throw new Error(`ringAverage: rank ${p2p.rank} is not in the group [${ranks.join(',')}]`);
  return async (delta, tag, codec, residual) => {
    await compressedAllReduce(p2p, ranks, delta, { codec, op: 'avg', tag, residual });
    return { bytesSent: ringBytesSent(ranks.length, position, delta.length, codec) };
  };
}
