// Where a step's GPU time goes: with a profiler on the context, every dispatch is encoded in a
// compute pass of its own with timestamp writes at its beginning and end (WebGPU has no
// timestamps inside a pass), and every buffer clear between two empty timed passes. collect()
// resolves the timestamps and sums them per label. Benchmarks only: one pass per dispatch
// adds a little per dispatch, and Dawn quantizes timestamps unless its `timestamp_quantization`
// toggle is off (createNodeContext({ exactTimestamps: true })).
import type { Dispatch } from './dispatch';

/** WebGPU's limit on queries per query set. */
const QUERIES_PER_SET = 4096;

export interface ProfileRow {
  label: string;
  count: number;
  ms: number;
  /** of the timed total */
  share: number;
  meanUs: number;
}

export interface StepProfile {
  /** Σ of every timed dispatch and clear */
  timedMs: number;
  /** first timestamp to last: the GPU's span over the work, idle gaps and untimed copies included */
  spanMs: number;
  dispatches: number;
  clears: number;
  /** the largest idle stretches between one timed item's end and the next one's beginning */
  largestGaps: { ms: number; after: string; before: string }[];
  /** per dispatch or clear label, largest time first */
  byLabel: ProfileRow[];
  /** per label and workgroup grid (a proxy for the shape), largest first, the first `detailRows` */
  byDispatch: ProfileRow[];
}

export class DispatchProfiler {
  private readonly sets: GPUQuerySet[] = [];
  /** per timed item: label and detail key */
  private readonly items: { label: string; detail: string; clear: boolean }[] = [];

  constructor(private readonly device: GPUDevice) {
    if (!device.features.has('timestamp-query'))
      throw new Error('DispatchProfiler: the device has no timestamp-query feature (the profile needs it)');
  }

  /** [query set, index of the begin query] for a new item. */
  private next(label: string, detail: string, clear: boolean): [GPUQuerySet, number] {
    const q = this.items.length * 2;
    const set = Math.floor(q / QUERIES_PER_SET);
    if (set === this.sets.length)
      this.sets.push(this.device.createQuerySet({ type: 'timestamp', count: QUERIES_PER_SET }));
    this.items.push({ label, detail, clear });
    return [this.sets[set], q % QUERIES_PER_SET];
  }

  /** Encodes each dispatch in its own timed compute pass. */
  encode(enc: GPUCommandEncoder, list: readonly Dispatch[]): void {
    for (const d of list) {
      const [querySet, at] = this.next(d.label, `${d.label} ${d.workgroups.join('×')}`, false);
      const pass = enc.beginComputePass({
        timestampWrites: { querySet, beginningOfPassWriteIndex: at, endOfPassWriteIndex: at + 1 },
      });
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
      pass.end();
    }
  }

  /** Encodes a buffer clear between two empty timed passes. */
  clear(enc: GPUCommandEncoder, buffer: GPUBuffer, offset: number, size: number, label: string): void {
    const [querySet, at] = this.next(`clear ${label}`, `clear ${label} ${size} B`, true);
    enc.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: at } }).end();
    enc.clearBuffer(buffer, offset, size);
    enc.beginComputePass({ timestampWrites: { querySet, endOfPassWriteIndex: at + 1 } }).end();
  }

  /** Reads the timestamps of everything encoded since the last collect (all of it must have
   *  been submitted) and starts over. */
  async collect(detailRows = 40): Promise<StepProfile> {
    const n = this.items.length;
    const bytes = Math.max(16, n * 2 * 8);
    const resolve = this.device.createBuffer({
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const read = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    this.sets.forEach((set, i) => {
      const count = Math.min(QUERIES_PER_SET, n * 2 - i * QUERIES_PER_SET);
      if (count > 0) enc.resolveQuerySet(set, 0, count, resolve, i * QUERIES_PER_SET * 8);
    });
    enc.copyBufferToBuffer(resolve, 0, read, 0, bytes);
    this.device.queue.submit([enc.finish()]);
    await read.mapAsync(GPUMapMode.READ);
    const ts = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    read.destroy();
    resolve.destroy();
    const items = this.items.splice(0);
    for (const s of this.sets.splice(0)) s.destroy();
    return summarize(items, ts, detailRows);
  }
}

function summarize(
  items: readonly { label: string; detail: string; clear: boolean }[],
  ts: BigUint64Array,
  detailRows: number,
): StepProfile {
  const byLabel = new Map<string, { count: number; ns: number }>();
  const byDetail = new Map<string, { count: number; ns: number }>();
  let timed = 0;
  let first = Infinity,
    last = -Infinity;
  items.forEach((it, i) => {
    const [b, e] = [Number(ts[2 * i]), Number(ts[2 * i + 1])];
    const ns = Math.max(0, e - b);
    timed += ns;
    first = Math.min(first, b);
    last = Math.max(last, e);
    for (const [map, key] of [
      [byLabel, it.label],
      [byDetail, it.detail],
    ] as const) {
      const r = map.get(key) ?? { count: 0, ns: 0 };
      r.count++;
      r.ns += ns;
      map.set(key, r);
    }
  });
  const gaps = items.slice(1).map((it, i) => ({
    ms: round((Number(ts[2 * i + 2]) - Number(ts[2 * i + 1])) / 1e6),
    after: items[i].label,
    before: it.label,
  }));
  const rows = (map: Map<string, { count: number; ns: number }>): ProfileRow[] =>
    [...map]
      .map(([label, r]) => ({
        label,
        count: r.count,
        ms: round(r.ns / 1e6),
        share: timed > 0 ? round(r.ns / timed) : 0,
        meanUs: round(r.ns / r.count / 1e3),
      }))
      .sort((a, b) => b.ms - a.ms);
  return {
    timedMs: round(timed / 1e6),
    spanMs: items.length ? round((last - first) / 1e6) : 0,
    dispatches: items.filter((it) => !it.clear).length,
    clears: items.filter((it) => it.clear).length,
    largestGaps: gaps.sort((a, b) => b.ms - a.ms).slice(0, 8),
    byLabel: rows(byLabel),
    byDispatch: rows(byDetail).slice(0, detailRows),
  };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
