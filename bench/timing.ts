// Times recorded Dispatches on the device: each sample is one compute pass holding `reps`
// copies of the list, timed by timestamp-query when the device has it (pass begin/end),
// else by wall time around submit → onSubmittedWorkDone. Reports the median sample.
import type { GpuContext } from '../src/gpu/context';
import { type Dispatch, encodeDispatches } from '../src/gpu/dispatch';

export interface Timing {
  ms: number;
  reps: number;
  samples: number;
  method: 'timestamp' | 'wall';
}

export interface TimeOptions {
  targetMs?: number;
  samples?: number;
  maxReps?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export class Timer {
  private readonly query: GPUQuerySet | null;
  private readonly resolveBuf: GPUBuffer | null;
  private readonly readBuf: GPUBuffer | null;

  constructor(private readonly ctx: GpuContext) {
    const dev = ctx.device;
    const ts = dev.features.has('timestamp-query');
    this.query = ts ? dev.createQuerySet({ type: 'timestamp', count: 2 }) : null;
    this.resolveBuf = ts
      ? dev.createBuffer({ size: 16, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC })
      : null;
    this.readBuf = ts ? dev.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }) : null;
  }

  get method(): Timing['method'] {
    return this.query ? 'timestamp' : 'wall';
  }

  /** One pass of `reps` repetitions; returns [gpu ms or NaN, wall ms]. */
  private async pass(list: readonly Dispatch[], reps: number): Promise<[number, number]> {
    const dev = this.ctx.device;
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass(
      this.query
        ? { timestampWrites: { querySet: this.query, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } }
        : {},
    );
    for (let r = 0; r < reps; r++) encodeDispatches(pass, list);
    pass.end();
    if (this.query && this.resolveBuf && this.readBuf) {
      enc.resolveQuerySet(this.query, 0, 2, this.resolveBuf, 0);
      enc.copyBufferToBuffer(this.resolveBuf, 0, this.readBuf, 0, 16);
    }
    const t0 = performance.now();
    dev.queue.submit([enc.finish()]);
    await dev.queue.onSubmittedWorkDone();
    const wall = performance.now() - t0;
    if (!this.readBuf) return [NaN, wall];
    await this.readBuf.mapAsync(GPUMapMode.READ);
    const [begin, end] = new BigInt64Array(this.readBuf.getMappedRange());
    this.readBuf.unmap();
    return [Number(end - begin) / 1e6, wall];
  }

  /** GPU ms of one pass of `reps` repetitions of `list`, without a warmup (NaN without timestamp-query). */
  async gpuMsOfPass(list: readonly Dispatch[], reps = 1): Promise<number> {
    return (await this.pass(list, reps))[0];
  }

  /** Median time of one repetition of `list`, in ms, after a warmup pass. */
  async time(list: readonly Dispatch[], opts: TimeOptions = {}): Promise<Timing> {
    const targetMs = opts.targetMs ?? 150,
      samples = opts.samples ?? 5,
      maxReps = opts.maxReps ?? 500;
    const [, warm] = await this.pass(list, 1);
    const [gpu1, wall1] = await this.pass(list, 1);
    const once = Number.isFinite(gpu1) && gpu1 > 0 ? Math.min(gpu1, wall1) : Math.min(warm, wall1);
    const reps = Math.max(1, Math.min(maxReps, Math.round(targetMs / Math.max(once, 1e-3))));
    const gpu: number[] = [],
      wall: number[] = [];
    for (let s = 0; s < samples; s++) {
      const [g, w] = await this.pass(list, reps);
      gpu.push(g / reps);
      wall.push(w / reps);
    }
    const g = median(gpu),
      w = median(wall);
    // trust the timestamps only when they are plausible against the wall clock
    const useTs = Number.isFinite(g) && g > 0 && g <= w * 1.05;
    return { ms: useTs ? g : w, reps, samples, method: useTs ? 'timestamp' : 'wall' };
  }
}
