// A metronome for Dawn's polls that leaves the JS thread free: a worker thread, asked for a tick,
// sleeps `tickUs` µs and posts a message; the callbacks queued meanwhile run when it arrives. So
// polls come at most one per tick, with no timer's 1 ms floor and no busy or blocked main thread.
import { Worker } from 'node:worker_threads';

type Callback = (...args: unknown[]) => void;

// flag[0]: 1 while the main thread waits for a tick. The worker wakes on it, naps, clears it, posts.
const TICKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const flag = new Int32Array(workerData.flag);
const nap = new Int32Array(new SharedArrayBuffer(4));
for (;;) {
  Atomics.wait(flag, 0, 0);
  Atomics.wait(nap, 0, 0, workerData.tickMs);
  Atomics.store(flag, 0, 0);
  parentPort.postMessage(0);
}`;

export class PollTicker {
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly worker: Worker;
  private queue: [Callback, unknown[]][] = [];

  constructor(tickUs: number) {
    // execArgv []: none of the parent's flags (--input-type=module would make the source an ES module)
    this.worker = new Worker(TICKER_SOURCE, {
      eval: true,
      execArgv: [],
      workerData: { flag: this.flag.buffer, tickMs: tickUs / 1000 },
    });
    this.worker.on('message', () => this.run());
    this.worker.unref(); // the process may end while no callback waits
  }

  /** Runs `callback(...args)` at the next tick. */
  later(callback: Callback, args: unknown[]): void {
    this.queue.push([callback, args]);
    if (this.queue.length === 1) {
      this.worker.ref(); // a queued poll keeps the process alive, as Dawn's own immediates do
      Atomics.store(this.flag, 0, 1);
      Atomics.notify(this.flag, 0);
    }
  }

  private run(): void {
    const due = this.queue;
    this.queue = [];
    if (due.length) this.worker.unref();
    // every due callback runs even if one throws (a dropped Dawn poll would leave its readback hanging);
    // the first error is thrown afterwards, as the callback's own immediate would have thrown it
    let failed: { error: unknown } | null = null;
    for (const [callback, args] of due) {
      try {
        callback(...args);
      } catch (error) {
        failed ??= { error };
      }
    }
    if (failed) throw failed.error;
  }
}
