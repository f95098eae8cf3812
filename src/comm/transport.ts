// The Transport: rank-addressed, tagged point-to-point messages between ranks.
// Everything above it (collectives, pipeline p2p) is written against this interface;
// `loopback.ts` runs N ranks in one process, `peerjs-transport.ts` runs over WebRTC.

import type { LinkMeter } from './link-meter';

export type Tag = string;

export interface RecvOptions {
  /** expected message size in bytes; a different size fails the receive */
  bytes?: number;
  /** fail when no byte of the message has arrived for this long (ms) */
  timeoutMs?: number;
  /** the operation this receive belongs to, named in errors (e.g. 'allReduce') */
  op?: string;
}

export interface SendOptions {
  timeoutMs?: number;
  op?: string;
}

export type PeerLostListener = (rank: number, error: CommError) => void;

export interface Transport {
  readonly rank: number;
  readonly worldSize: number;
  /** Queues `data` for `to`. Resolves once the bytes are handed to the network, after which
   *  the caller may reuse `data`. Messages to one peer with one tag arrive in send order. */
  send(to: number, tag: Tag, data: ArrayBufferView, opts?: SendOptions): Promise<void>;
  /** The next message with `tag` from `from`, as bytes in a buffer of its own (offset 0). */
  recv(from: number, tag: Tag, opts?: RecvOptions): Promise<Uint8Array>;
  /** Called once per peer that disconnects or fails; returns an unsubscribe function. */
  onPeerLost(listener: PeerLostListener): () => void;
  /** Why `rank` is unusable, or undefined while it is healthy. */
  lostPeer(rank: number): CommError | undefined;
  close(): void;
  /** Per-peer bytes and send time (every transport in this repo has one). */
  readonly meter?: LinkMeter;
}

export const DEFAULT_TIMEOUT_MS = 60_000;

/** A communication failure; the message names this rank, the peer and the operation. */
export class CommError extends Error {
  constructor(
    readonly op: string,
    readonly rank: number,
    readonly peer: number,
    /** what went wrong, without the op/rank prefix */
    readonly reason: string,
  ) {
    super(`${op}: rank ${rank} ⇄ rank ${peer}: ${reason}`);
    this.name = 'CommError';
  }
}

export function checkRank(transport: { worldSize: number; rank: number }, peer: number, op: string): void {
  if (!Number.isInteger(peer) || peer < 0 || peer >= transport.worldSize) {
    throw new CommError(op, transport.rank, peer, `no such rank (world size ${transport.worldSize})`);
  }
  if (peer === transport.rank) throw new CommError(op, transport.rank, peer, 'a rank cannot message itself');
}

/** Bytes of any typed array or DataView, without copying. */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return data instanceof Uint8Array ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}
