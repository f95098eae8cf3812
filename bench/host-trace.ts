// Where a step's wall time goes on the host: wraps GPUQueue.submit / writeBuffer and
// GPUBuffer.mapAsync (benchmarks only) and, after each submit, asks when the GPU finished it
// (onSubmittedWorkDone). stepSummary() then tells a slow step's cause apart: a host call that
// blocked (long submit or writeBuffer), work the GPU finished late (a long gap between a submit
// and its completion), or a readback that waited after the GPU was done (mapAsync).

interface Span {
  kind: 'submit' | 'write' | 'map' | 'done' | 'call';
  /** a wrapped method's name ('call') */
  name?: string;
  /** host ms since the step began: the call (for 'done': the submit it follows) */
  t0: number;
  /** host ms since the step began: the call returned, the promise resolved */
  t1: number;
}

export interface StepTrace {
  step_ms: number;
  submits: number;
  /** the longest single submit / writeBuffer call, and all submit calls together */
  submit_max_ms: number;
  submit_sum_ms: number;
  write_max_ms: number;
  /** host ms at which the last submit returned: the step's recording is done */
  last_submit_at: number;
  /** the longest time from a submit's call to its completion being seen */
  done_max_ms: number;
  /** when the last completion was seen */
  last_done_at: number;
  /** per submit: [called at, done seen at], ms since the step began */
  timeline?: [number, number][];
  /** per call of a method given to wrap(): [name, began at, returned at] */
  calls?: [string, number, number][];
  map_max_ms: number;
}

export class HostTrace {
  private spans: Span[] = [];
  private origin = performance.now();

  constructor() {
    const trace = this;
    const queue = (globalThis as unknown as { GPUQueue: { prototype: GPUQueue } }).GPUQueue.prototype;
    const buffer = (globalThis as unknown as { GPUBuffer: { prototype: GPUBuffer } }).GPUBuffer.prototype;
    const submit = queue.submit;
    const writeBuffer = queue.writeBuffer;
    const mapAsync = buffer.mapAsync;
    queue.submit = function (this: GPUQueue, cbs: Iterable<GPUCommandBuffer>) {
      const t0 = trace.now();
      submit.call(this, cbs);
      const t1 = trace.now();
      trace.spans.push({ kind: 'submit', t0, t1 });
      const done: Span = { kind: 'done', t0, t1: NaN };
      trace.spans.push(done);
      void this.onSubmittedWorkDone().then(() => (done.t1 = trace.now()));
    } as GPUQueue['submit'];
    queue.writeBuffer = function (this: GPUQueue, ...args: Parameters<GPUQueue['writeBuffer']>) {
      const t0 = trace.now();
      writeBuffer.apply(this, args);
      trace.spans.push({ kind: 'write', t0, t1: trace.now() });
    } as GPUQueue['writeBuffer'];
    buffer.mapAsync = function (this: GPUBuffer, ...args: Parameters<GPUBuffer['mapAsync']>) {
      const span: Span = { kind: 'map', t0: trace.now(), t1: NaN };
      trace.spans.push(span);
      return mapAsync.apply(this, args).then(() => void (span.t1 = trace.now()));
    } as GPUBuffer['mapAsync'];
  }

  /** Times each call of `obj[name]` (synchronous methods) as a 'call' span. */
  wrap<T extends object>(obj: T, name: keyof T & string): void {
    const trace = this;
    const f = obj[name] as unknown as (...args: unknown[]) => unknown;
    (obj as Record<string, unknown>)[name] = function (this: unknown, ...args: unknown[]) {
      const t0 = trace.now();
      const r = f.apply(this, args);
      trace.spans.push({ kind: 'call', name, t0, t1: trace.now() });
      return r;
    };
  }

  private now(): number {
    return performance.now() - this.origin;
  }

  /** Starts a step's record. */
  begin(): void {
    this.spans = [];
    this.origin = performance.now();
  }

  /** Summarizes the step begun last; `withTimeline`: every submit's call and completion too. */
  end(withTimeline = false): StepTrace {
    const stepMs = this.now();
    const of = (k: Span['kind']) => this.spans.filter((s) => s.kind === k);
    const max = (xs: number[]) => xs.reduce((a, b) => Math.max(a, b), 0);
    const r = (x: number) => Math.round(x * 1000) / 1000;
    const submits = of('submit');
    const done = of('done').filter((s) => Number.isFinite(s.t1));
    return {
      step_ms: r(stepMs),
      submits: submits.length,
      submit_max_ms: r(max(submits.map((s) => s.t1 - s.t0))),
      submit_sum_ms: r(submits.reduce((a, s) => a + s.t1 - s.t0, 0)),
      write_max_ms: r(max(of('write').map((s) => s.t1 - s.t0))),
      last_submit_at: r(max(submits.map((s) => s.t1))),
      done_max_ms: r(max(done.map((s) => s.t1 - s.t0))),
      last_done_at: r(max(done.map((s) => s.t1))),
      map_max_ms: r(max(of('map').map((s) => (Number.isFinite(s.t1) ? s.t1 - s.t0 : 0)))),
      ...(withTimeline
        ? {
            timeline: of('done').map((s) => [r(s.t0), r(s.t1)] as [number, number]),
            calls: of('call').map((s) => [s.name ?? '', r(s.t0), r(s.t1)] as [string, number, number]),
          }
        : {}),
    };
  }
}
