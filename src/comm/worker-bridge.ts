// Worker ⇄ page: WebRTC lives on the page's main thread, GPU buffers in the rank worker.
// The page serves the collectives on a MessagePort; the worker calls them with its
// tensors' ArrayBuffers *transferred* (moved, not copied) and gets them back the same way.
// (SharedArrayBuffer would not save a copy: RTCDataChannel.send rejects shared views.)

import * as Comlink from 'comlink';
import { allGather, allReduce, barrier, broadcast, reduceScatter, type ReduceOp, type SliceOf } from './collectives';
import type { HalfFormat } from '../train/precision';
import { Group } from './group';
import type { Transport } from './transport';

export interface GroupSpec {
  ranks: number[];
  /** groups with the same name share a tag sequence (default: the rank list) */
  name?: string;
  timeoutMs?: number;
  /** all-reduce, reduce-scatter and all-gather of one slice of a longer vector (a gradient bucket, a
   *  ZeRO-3 layer): see
   *  CollectiveOptions.slice. Per call, not per group: the group's tags are shared. */
  slice?: SliceOf;
  /** mixed precision: the call's messages carry this 16-bit format (CollectiveOptions.wire). Per call. */
  wire?: HalfFormat;
}

/** The options of one collective call from its GroupSpec. */
export function callOptions(g: GroupSpec): { timeoutMs?: number; slice?: SliceOf; wire?: HalfFormat } {
  return {
    timeoutMs: g.timeoutMs,
    slice: g.slice,
    ...(g.wire ? { wire: g.wire } : {}),
  };
}

function makeApi(transport: Transport) {
  const groups = new Map<string, Group>();
  const group = (g: GroupSpec): Group => {
    const name = g.name ?? `[${g.ranks.join(',')}]`;
    let found = groups.get(name);
    if (!found) groups.set(name, (found = new Group(transport, g.ranks, name)));
    else if (found.ranks.join() !== g.ranks.join())
      throw new Error(`group '${name}' was [${found.ranks.join(',')}], now [${g.ranks.join(',')}]`);
    return found;
  };
  const back = (a: Float32Array) => {
    const whole = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? a.buffer : a.slice().buffer;
    return Comlink.transfer(whole as ArrayBuffer, [whole as ArrayBuffer]);
  };
  return {
    async allReduce(buf: ArrayBuffer, g: GroupSpec, op: ReduceOp = 'sum') {
      return back(await allReduce(group(g), new Float32Array(buf), op, callOptions(g)));
    },
    async reduceScatter(buf: ArrayBuffer, g: GroupSpec, op: ReduceOp = 'sum') {
      return back(await reduceScatter(group(g), new Float32Array(buf), op, callOptions(g)));
    },
    async allGather(buf: ArrayBuffer, g: GroupSpec) {
      return back(await allGather(group(g), new Float32Array(buf), callOptions(g)));
    },
    async broadcast(buf: ArrayBuffer, g: GroupSpec, root: number) {
      return back(await broadcast(group(g), new Float32Array(buf), root, { timeoutMs: g.timeoutMs }));
    },
    async barrier(g: GroupSpec) {
      await barrier(group(g), { timeoutMs: g.timeoutMs });
    },
    async send(to: number, tag: string, buf: ArrayBuffer) {
      await transport.send(to, tag, new Uint8Array(buf));
    },
    async recv(from: number, tag: string, bytes?: number) {
      const got = await transport.recv(from, tag, { bytes });
      return Comlink.transfer(got.buffer as ArrayBuffer, [got.buffer as ArrayBuffer]);
    },
  };
}

export type CommBridgeApi = ReturnType<typeof makeApi>;

/** Page side: serves `transport`'s collectives on `port` (hand the other port to the worker). */
export function serveComm(transport: Transport, port: MessagePort): void {
  Comlink.expose(makeApi(transport), port);
}

/** Worker side. Each call moves the tensor's buffer to the page; the result comes back in a buffer of its own. */
export function commClient(port: MessagePort) {
  const remote = Comlink.wrap<CommBridgeApi>(port);
  const give = (a: Float32Array): ArrayBuffer => {
    const buf =
      a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? (a.buffer as ArrayBuffer) : a.slice().buffer;
    return Comlink.transfer(buf, [buf]);
  };
  return {
    allReduce: async (a: Float32Array, g: GroupSpec, op: ReduceOp = 'sum') =>
      new Float32Array(await remote.allReduce(give(a), g, op)),
    reduceScatter: async (a: Float32Array, g: GroupSpec, op: ReduceOp = 'sum') =>
      new Float32Array(await remote.reduceScatter(give(a), g, op)),
    allGather: async (a: Float32Array, g: GroupSpec) => new Float32Array(await remote.allGather(give(a), g)),
    broadcast: async (a: Float32Array, g: GroupSpec, root: number) =>
      new Float32Array(await remote.broadcast(give(a), g, root)),
    barrier: (g: GroupSpec) => remote.barrier(g),
    send: (to: number, tag: string, a: Uint8Array) => {
      const buf =
        a.byteOffset === 0 && a.byteLength === a.buffer.byteLength ? (a.buffer as ArrayBuffer) : a.slice().buffer;
      return remote.send(to, tag, Comlink.transfer(buf, [buf]));
    },
    recv: async (from: number, tag: string, bytes?: number) => new Uint8Array(await remote.recv(from, tag, bytes)),
  };
}
