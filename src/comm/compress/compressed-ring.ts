// Ring all-reduce whose wire carries a codec's bytes (int8 + per-block scales, or f32):
// reduce-scatter then all-gather over `ringPlan`, like collectives.ts, with two differences.
//   - Reduce-scatter: each partial sum is encoded before it leaves and decoded on arrival
//     (the sum itself is kept in f32). With a residual, each rank adds what its own sends of
//     a chunk lost last round before encoding that chunk again (error feedback); a rank sends
//     every chunk but its own, so one residual of data.length values serves every send.
//   - All-gather: the owner encodes its reduced chunk once (its residual slot takes that
//     error) and the encoded bytes are forwarded unchanged round the ring. Every rank, owner
//     included, decodes the same bytes, so all end with bit-identical results.
// With the f32 codec the result is bit-identical to allReduce (same summation order).
// It needs only point-to-point messages, so it runs wherever the error-feedback state lives:
// in the rank worker over the bridge's send/recv (RankComm), or over a Transport.

import { ringPlan, type RingPlan } from '../ring-plan';
import type { Transport } from '../transport';
import type { WireCodec } from './wire-codec';

/** The messages a ring needs (RankComm and the worker bridge's client have this shape). */
export interface PointToPoint {
  readonly rank: number;
  send(to: number, tag: string, bytes: Uint8Array): Promise<void>;
  recv(from: number, tag: string, bytes?: number): Promise<Uint8Array>;
}

export interface CompressedAllReduceOptions {
  codec: WireCodec;
  op?: 'sum' | 'avg';
  /** error-feedback state, data.length values, carried from call to call (omit: none) */
  residual?: Float32Array;
  /** unique per call and the same on every member, e.g. `localsgd:round7:frag0` */
  tag: string;
}

export function transportP2P(t: Transport, timeoutMs?: number): PointToPoint {
  return {
    rank: t.rank,
    send: (to, tag, bytes) => t.send(to, tag, bytes, { op: 'compressedAllReduce', timeoutMs }),
    recv: (from, tag, bytes) => t.recv(from, tag, { bytes, op: 'compressedAllReduce', timeoutMs }),
  };
}

/** In place: every member of `ranks` ends with the same sum (or mean) of all members' `data`. */
export async function compressedAllReduce(
  p2p: PointToPoint,
  ranks: readonly number[],
  data: Float32Array,
  opts: CompressedAllReduceOptions,
): Promise<Float32Array> {
  const n = ranks.length;
  const position = ranks.indexOf(p2p.rank);
  if (position < 0)
    throw new Error(`compressedAllReduce '${opts.tag}': rank ${p2p.rank} is not in [${ranks.join(',')}]`);
  if (opts.residual && opts.residual.length !== data.length)
    throw new Error(
      `compressedAllReduce '${opts.tag}': residual has ${opts.residual.length} values, data ${data.length}`,
    );
  if (n === 1) return data;
  const plan = ringPlan(n, position, data.length);
  const next = ranks[plan.next],
    prev = ranks[plan.prev];
  const view = (a: Float32Array, c: number) => a.subarray(plan.chunks[c].start, plan.chunks[c].end);
  const { codec, residual } = opts;

  const exchange = async (tag: string, out: Uint8Array | null, inLength: number) => {
    const [, got] = await Promise.all([
      out ? p2p.send(next, tag, out) : undefined,
      inLength > 0 ? p2p.recv(prev, tag, codec.bytes(inLength)) : undefined,
    ]);
    return got;
  };

  for (let s = 0; s < plan.reduceScatter.length; s++) {
    const { send, recv } = plan.reduceScatter[s];
    const out = view(data, send);
    const wire = out.length > 0 ? codec.encode(out, residual && view(residual, send)) : null;
    const got = await exchange(`${opts.tag}/rs${s}`, wire, view(data, recv).length);
    if (got) {
      const acc = view(data, recv);
      const incoming = codec.decode(got, acc.length);
      for (let i = 0; i < acc.length; i++) acc[i] = incoming[i] + acc[i];
    }
  }
  const own = view(data, plan.rank);
  if (opts.op === 'avg') for (let i = 0; i < own.length; i++) own[i] = own[i] / n;
  await allGatherEncoded(plan, data, own.length > 0 ? codec.encode(own, residual && view(residual, plan.rank)) : null, {
    exchange,
    codec,
    tag: opts.tag,
    view,
  });
  return data;
}

async function allGatherEncoded(
  plan: RingPlan,
  data: Float32Array,
  mine: Uint8Array | null,
  io: {
    exchange: (tag: string, out: Uint8Array | null, inLength: number) => Promise<Uint8Array | undefined>;
    codec: WireCodec;
    tag: string;
    view: (a: Float32Array, c: number) => Float32Array;
  },
): Promise<void> {
  if (mine) io.view(data, plan.rank).set(io.codec.decode(mine, io.view(data, plan.rank).length));
  let forward = mine;
  for (let s = 0; s < plan.allGather.length; s++) {
    const { recv } = plan.allGather[s];
    const target = io.view(data, recv);
    const got = await io.exchange(`${io.tag}/ag${s}`, forward, target.length);
    if (got) target.set(io.codec.decode(got, target.length));
    forward = got ?? null;
  }
}

/** Bytes one member sends in compressedAllReduce: every chunk but its own in the reduce-scatter,
 *  every chunk but the next member's in the all-gather. */
export function ringBytesSent(n: number, position: number, length: number, codec: WireCodec): number {
  if (n === 1) return 0;
  const plan = ringPlan(n, position, length);
  let total = 0;
  plan.chunks.forEach((c, i) => {
    const b = c.end > c.start ? codec.bytes(c.end - c.start) : 0;
    if (i !== plan.rank) total += b;
    if (i !== plan.next) total += b;
  });
  return total;
}
