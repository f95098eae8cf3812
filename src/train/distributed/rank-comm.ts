// What a rank's trainer needs from the network, whichever side of the page/worker boundary
// the transport lives on: the worker-bridge client (`commClient`) and `directComm` (a
// Transport in the same thread: loopback tests) both satisfy it.
import { allGather, allReduce, broadcast, reduceScatter, type ReduceOp } from '../../comm/collectives';
import { Group } from '../../comm/group';
import { callOptions, type GroupSpec } from '../../comm/worker-bridge';
import type { Transport } from '../../comm/transport';
import type { GpuContext } from '../../gpu/context';
import type { DeviceCollectives } from '../../gpu/device-collectives';

export interface RankComm {
  readonly rank: number;
  allReduce(a: Float32Array, g: GroupSpec, op?: ReduceOp): Promise<Float32Array>;
  reduceScatter(a: Float32Array, g: GroupSpec, op?: ReduceOp): Promise<Float32Array>;
  allGather(a: Float32Array, g: GroupSpec): Promise<Float32Array>;
  broadcast(a: Float32Array, g: GroupSpec, root: number): Promise<Float32Array>;
  send(to: number, tag: string, a: Uint8Array): Promise<void>;
  recv(from: number, tag: string, bytes?: number): Promise<Uint8Array>;
  /** set where some ranks share this process's GPU device (loopback worlds): a group whose
   *  every member is there reduces on the device (src/gpu/device-collectives.ts), not the host */
  readonly device?: DeviceCollectives;
}

/** The device-local collectives for `g`, when every member of it shares this rank's device (`ctx`). */
export function deviceFor(comm: RankComm, g: { ranks: readonly number[] }, ctx: GpuContext): DeviceCollectives | null {
  const d = comm.device;
  return d && d.ctx === ctx && g.ranks.length > 1 && d.covers(g.ranks) ? d : null;
}

/** `device`: this rank's member of a DeviceHub, where ranks share the GPU device (loopback worlds). */
export function directComm(transport: Transport, device?: DeviceCollectives): RankComm {
  const groups = new Map<string, Group>();
  const group = (g: GroupSpec) => {
    const name = g.name ?? `[${g.ranks.join(',')}]`;
    let found = groups.get(name);
    if (!found) groups.set(name, (found = new Group(transport, g.ranks, name)));
    return found;
  };
  return {
    rank: transport.rank,
    allReduce: (a, g, op = 'sum') => allReduce(group(g), a, op, callOptions(g)),
    reduceScatter: (a, g, op = 'sum') => reduceScatter(group(g), a, op, callOptions(g)),
    allGather: (a, g) => allGather(group(g), a, callOptions(g)),
    broadcast: (a, g, root) => broadcast(group(g), a, root, { timeoutMs: g.timeoutMs }),
    send: (to, tag, a) => transport.send(to, tag, a),
    recv: (from, tag, bytes) => transport.recv(from, tag, { bytes }),
    ...(device ? { device } : {}),
  };
}
