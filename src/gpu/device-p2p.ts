// Point-to-point tensors between ranks of this process that share one GPU device (pipeline
// activations and their gradients in loopback worlds): no readback, no host bytes. A send queues
// a copy of its tensor at once (later work of the sender may overwrite it), straight into the
// receiver's tensor when that recv is already waiting, else into a staging buffer that the recv
// copies from. Every copy is submitted on the shared queue, so it runs after everything its sender
// and receiver had submitted before, and before whatever they submit after. Messages match by
// (from, to, tag), as the transport's do; a recv that gets nothing for its timeout, or whose sender
// failed, rejects with the peer and tag at fault.
import { DEFAULT_TIMEOUT_MS } from '../comm/transport';
import type { GpuContext } from './context';
import { describe, type GpuTensor } from './tensor';

interface Staged {
  buffer: GPUBuffer;
  length: number;
}

interface Waiting {
  into: GpuTensor;
  resolve: () => void;
  reject: (e: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

const keyOf = (from: number, to: number, tag: string) => `${from}>${to}:${tag}`;

export class DeviceMailbox {
  private readonly staged = new Map<string, Staged>();
  private readonly waiting = new Map<string, Waiting>();
  /** free staging buffers by byte size */
  private readonly pool = new Map<number, GPUBuffer[]>();
  private readonly failed = new Map<number, string>();
  /** messages delivered (for reports and tests) */
  delivered = 0;

  constructor(
    readonly ctx: GpuContext,
    readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {}

  /** Queues t's copy for `to`; resolves once queued. */
  send(from: number, to: number, tag: string, t: GpuTensor): Promise<void> {
    const key = keyOf(from, to, tag);
    if (this.staged.has(key)) return Promise.reject(new Error(`device send ${key}: sent twice`));
    const w = this.waiting.get(key);
    if (w) {
      if (w.into.length !== t.length) {
        const err = new Error(`device send ${key}: ${describe(t)} into ${describe(w.into)}: lengths differ`);
        this.settle(key, w, err);
        return Promise.reject(err);
      }
      this.copy(t.buffer, t.offset, w.into.buffer, w.into.offset, t.length, 'device-p2p.direct');
      this.delivered++;
      this.settle(key, w, null);
      return Promise.resolve();
    }
    const buffer = this.take(t.length * 4);
    this.copy(t.buffer, t.offset, buffer, 0, t.length, 'device-p2p.stage');
    this.staged.set(key, { buffer, length: t.length });
    return Promise.resolve();
  }

  /** Resolves once the tensor `from` sent with `tag` has its copy into `into` queued. */
  recv(from: number, to: number, tag: string, into: GpuTensor): Promise<void> {
    const key = keyOf(from, to, tag);
    const s = this.staged.get(key);
    if (s) {
      this.staged.delete(key);
      if (s.length !== into.length)
        return Promise.reject(new Error(`device recv ${key}: ${s.length} elements sent into ${describe(into)}`));
      this.copy(s.buffer, 0, into.buffer, into.offset, s.length, 'device-p2p.unstage');
      this.delivered++;
      this.give(s.buffer, s.length * 4);
      return Promise.resolve();
    }
    const dead = this.failed.get(from);
    if (dead !== undefined) return Promise.reject(new Error(`device recv ${key}: rank ${from} failed: ${dead}`));
    if (this.waiting.has(key)) return Promise.reject(new Error(`device recv ${key}: received twice`));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(key);
        reject(new Error(`device recv ${key}: nothing from rank ${from} for ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.waiting.set(key, { into, resolve, reject, timer });
    });
  }

  /** `rank` failed: recvs waiting for it reject now, and so will later ones. */
  fail(rank: number, reason: string): void {
    this.failed.set(rank, reason);
    for (const [key, w] of [...this.waiting]) {
      if (key.startsWith(`${rank}>`))
        this.settle(key, w, new Error(`device recv ${key}: rank ${rank} failed: ${reason}`));
    }
  }

  /** Submits a copy of `length` f32 values on the shared queue. */
  private copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, length: number, label: string) {
    const enc = this.ctx.device.createCommandEncoder({ label });
    enc.copyBufferToBuffer(src, srcOffset, dst, dstOffset, length * 4);
    this.ctx.device.queue.submit([enc.finish()]);
  }

  private settle(key: string, w: Waiting, err: Error | null): void {
    clearTimeout(w.timer);
    this.waiting.delete(key);
    err ? w.reject(err) : w.resolve();
  }

  private take(bytes: number): GPUBuffer {
    return this.pool.get(bytes)?.pop() ?? this.ctx.createBuffer(bytes, 'device-p2p.staging');
  }

  /** Reusable at once: a later copy into it is queued after the copy out of it. */
  private give(buffer: GPUBuffer, bytes: number): void {
    const free = this.pool.get(bytes) ?? [];
    free.push(buffer);
    this.pool.set(bytes, free);
  }
}
