// Sending side of one data channel: a FIFO of parts, each a header string then binary
// chunks, paced on bufferedAmount. Sending pauses while the channel's buffer is above
// `highWaterBytes` and resumes on 'bufferedamountlow' (threshold `lowWaterBytes`):
// Chrome closes a channel whose buffer passes 16 MiB.

/** The part of RTCDataChannel this needs. */
export interface DataChannelLike {
  readonly readyState: RTCDataChannelState;
  readonly bufferedAmount: number;
  bufferedAmountLowThreshold: number;
  send(data: string): void;
  send(data: ArrayBufferView<ArrayBuffer>): void;
  addEventListener(type: 'bufferedamountlow' | 'close', listener: () => void): void;
  removeEventListener(type: 'bufferedamountlow' | 'close', listener: () => void): void;
}

export interface PacingOptions {
  chunkBytes: number;
  highWaterBytes: number;
  lowWaterBytes: number;
}

interface Job {
  header: string;
  payload: Uint8Array;
  timeoutMs: number;
  resolve(): void;
  reject(reason: string): void;
}

export class ChannelSender {
  private readonly queue: Job[] = [];
  private pumping = false;
  private failure?: string;
  private wake?: () => void;

  constructor(
    private readonly dc: DataChannelLike,
    private readonly pacing: PacingOptions,
  ) {
    if (pacing.highWaterBytes - pacing.chunkBytes <= pacing.lowWaterBytes) {
      throw new Error(
        `pacing: highWaterBytes (${pacing.highWaterBytes}) must exceed lowWaterBytes + chunkBytes (${pacing.lowWaterBytes} + ${pacing.chunkBytes})`,
      );
    }
    dc.bufferedAmountLowThreshold = pacing.lowWaterBytes;
    dc.addEventListener('bufferedamountlow', () => this.wake?.());
    dc.addEventListener('close', () => this.fail('data channel closed'));
  }

  /** Resolves once every byte was handed to the channel; rejects with a reason string. */
  enqueue(header: string, payload: Uint8Array, timeoutMs: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ header, payload, timeoutMs, resolve, reject });
      if (!this.pumping) void this.pump();
    });
  }

  fail(reason: string): void {
    if (this.failure) return;
    this.failure = reason;
    for (const job of this.queue.splice(0)) job.reject(reason);
    this.wake?.();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.failure) {
        const job = this.queue[0];
        try {
          await this.sendJob(job);
          this.queue.shift();
          job.resolve();
        } catch (e) {
          this.fail(e instanceof Error ? e.message : String(e));
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private async sendJob(job: Job): Promise<void> {
    const { chunkBytes, highWaterBytes } = this.pacing;
    this.checkOpen();
    this.dc.send(job.header);
    const p = job.payload;
    for (let at = 0; at < p.byteLength; at += chunkBytes) {
      const end = Math.min(p.byteLength, at + chunkBytes);
      if (this.dc.bufferedAmount + (end - at) > highWaterBytes) await this.drained(job.timeoutMs);
      this.checkOpen();
      this.dc.send(p.subarray(at, end) as Uint8Array<ArrayBuffer>);
    }
  }

  private checkOpen(): void {
    if (this.failure) throw new Error(this.failure);
    if (this.dc.readyState !== 'open') throw new Error(`data channel is ${this.dc.readyState}`);
  }

  /** Waits for 'bufferedamountlow'; fails if the buffer does not drain within timeoutMs. */
  private drained(timeoutMs: number): Promise<void> {
    const before = this.dc.bufferedAmount;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        reject(
          new Error(
            `send stalled: ${this.dc.bufferedAmount} bytes buffered (was ${before}) did not drain below ${this.pacing.lowWaterBytes} in ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
