// After (and during) the schedule, every rank's gradients become the global ones and the optimizer steps:
//   1. data parallel: gradients averaged over the replicas by ring all-reduce, or with ZeRO-1
//      reduce-scattered so each replica gets the average of only the shard it updates (not with
//      local SGD: each replica steps on its own gradients, and rounds average the weights).
//      In buckets (grad-buckets.ts): a bucket is read back and reduced as soon as the last
//      micro-batch's backward has finished its gradients, while the GPU goes on with the rest;
//      every bucket uses the ring of the whole vector (CollectiveOptions.slice), so the sums are
//      the same, bit for bit, as one collective over all gradients;
//   1b. sequence parallelism: each TP rank's gradients of the TP-replicated tensors (norms, row-
//      layer biases, learned positions) cover only its positions, so they are summed over the TP group;
//   2. tied embeddings: the first and last stage's copies of embed.wte have their gradients summed
//      (then averaged over the replicas like a bucket);
//   3. the global gradient norm: each rank's Σ g² (its optimizer range, minus what another rank
//      counts) summed over the norm group, so every rank clips by the same coefficient;
//   4. clip + AdamW over the rank's range; with ZeRO-1 the updated shards are all-gathered.
// ZeRO-2/3 keep only the rank's gradient shard: grad-shard-sync.ts.
// Where every replica shares this rank's GPU device in this process (loopback worlds), steps 1,
// 1b and 2 run there instead (gpu/device-collectives.ts: f32, no readback; with ZeRO-1 every
// replica then holds the whole average, of which it updates its shard).
// With mixed precision, step 3 first unscales the rank's gradients and flags Inf/NaN; the flag
// travels with Σ g² (and over the data-parallel group too), so when any rank of the run
// overflowed every rank skips step 4 and tells its loss scaler the same thing.
import { compressedAllReduce } from '../../comm/compress/compressed-ring';
import { halfCodec } from '../../comm/compress/half-wire';
import type { GroupSpec } from '../../comm/worker-bridge';
import type { HalfFormat } from '../precision';
import type { Range } from '../../gpu/kernels/optimizer';
import { marksOf, type Program } from '../../model/program';
import type { RunHooks } from '../../model/run-program';
import type { Trainer } from '../trainer';
import { bucketTarget, gradBuckets, type GradBucket } from './grad-buckets';
import { clipAndStep, commTimer } from './clip-and-step';
import { ShardedGradSync } from './grad-shard-sync';
import { deviceFor, type RankComm } from './rank-comm';
import type { DeviceCollectives } from '../../gpu/device-collectives';

export interface GradSyncPlace {
  comm: RankComm;
  /** [first stage rank, last stage rank] when embeddings are tied across stages */
  tiedEmbeddingGroup: GroupSpec | null;
  dpGroup: GroupSpec;
  /** ZeRO (any stage): the optimizer state is split over dpGroup */
  zero: boolean;
  /** false with local SGD: each replica steps on its own gradients (rounds average the weights) */
  dpAverage?: boolean;
  /** Σ g² is summed over these groups in turn (TP, then PP, then DP with ZeRO), which covers
   *  every rank whose gradients are part of the global norm */
  normGroups: GroupSpec[];
  /** elements per data-parallel gradient bucket (default bucketTarget(flat length)) */
  bucketElems?: number;
  /** mixed precision: the tied-embedding gradient sum travels in this 16-bit format */
  half?: HalfFormat;
  /** sequence parallelism: the TP group over which the TP-replicated gradients are summed */
  seqParallelGroup?: GroupSpec | null;
}

export interface SyncTimes {
  /** ms the step waited in gradient collectives (tied, DP buckets still in flight after the
   *  backward, norm, ZeRO gather); bucket work overlapped with the backward is not counted */
  allReduceMs: number;
  /** ms in the norm + optimizer dispatches (and their readbacks) */
  optimizerMs: number;
}

const intersect = (a: Range, b: Range): Range => ({ start: Math.max(a.start, b.start), end: Math.min(a.end, b.end) });

// Host memory the buckets are read into, one per trainer, kept across steps: allocating fresh
// pages for every bucket of every step costs more than the copy itself on a VM.
const mirrors = new WeakMap<Trainer, Float32Array>();
function mirrorOf(t: Trainer): Float32Array {
  let m = mirrors.get(t);
  // a comm that moves whole buffers (the worker bridge) may have taken it: then make another
  if (!m || m.buffer.byteLength === 0) mirrors.set(t, (m = new Float32Array(t.model.flatLength)));
  return m;
}

/** One step's gradient synchronisation: `hooks` go to the last backward, then `finish()`. */
export class GradSync {
  private readonly buckets: GradBucket[];
  private readonly inFlight: Promise<void>[] = [];
  private issued = 0;
  private readonly dp: number;
  private readonly flatLength: number;
  private readonly tied: Range | null;
  /** the replicas' device-local collectives, when they all share this rank's device */
  private readonly dpDevice: DeviceCollectives | null;
  /** for the step's last backward: each mark starts the buckets it finishes */
  readonly hooks: RunHooks;

  /** `lastBackward`: the pass `hooks` go to (default slot 0's backward; its marks place the buckets) */
  constructor(
    private readonly t: Trainer,
    private readonly place: GradSyncPlace,
    lastBackward?: Program,
  ) {
    const { model } = t;
    this.dp = place.dpAverage === false ? 1 : place.dpGroup.ranks.length;
    this.flatLength = model.flatLength;
    const wte = place.tiedEmbeddingGroup ? model.layout.byName.get('embed.wte')! : null;
    this.tied = wte ? { start: wte.offset, end: wte.offset + wte.length } : null;
    this.dpDevice = this.dp > 1 ? deviceFor(place.comm, place.dpGroup, t.ctx) : null;
    const marks = marksOf(lastBackward ?? model.slots[0].backward);
    // interleaved 1F1B: the other chunks' parameters are final before the last backward starts
    const named = new Set(marks.flat());
    const before = model.layout.slots.map((sl) => sl.name).filter((n) => !named.has(n));
    if (before.length > 0 && marks.length > 0) marks[0] = [...before, ...marks[0]];
    this.buckets =
      this.dp > 1
        ? gradBuckets(
            model.layout,
            this.flatLength,
            marks,
            place.bucketElems ?? bucketTarget(this.flatLength),
            this.tied,
          )
        : [];
    this.hooks = { onMark: (_, index) => this.issueUpTo(index) };
  }

  /** The hooks for one backward of the step: the buckets start during the last one (unless
   *  the benchmark measures each op on its own). */
  backwardHooks(last: boolean, measuring = false): RunHooks | undefined {
    return last && !measuring ? this.hooks : undefined;
  }

  /** Waits for every bucket in flight, failed or not (after the step failed elsewhere). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  async finish(): Promise<SyncTimes> {
    const { comm } = this.place;
    const { ctx } = this.t;
    const { timed, ms } = commTimer();
    this.issueUpTo(Number.POSITIVE_INFINITY);
    await timed(() => Promise.all(this.inFlight));
    if (this.place.seqParallelGroup) await timed(() => this.sumReplicated(this.place.seqParallelGroup!));
    const tiedDevice = this.tied ? deviceFor(comm, this.place.tiedEmbeddingGroup!, ctx) : null;
    if (this.tied && tiedDevice && (this.dp === 1 || this.dpDevice)) {
      const view = this.gradView(this.tied);
      await timed(() => tiedDevice.allReduce(view, this.place.tiedEmbeddingGroup!, 'sum'));
      if (this.dpDevice) await timed(() => this.dpDevice!.allReduce(view, this.place.dpGroup, 'avg'));
    } else if (this.tied) {
      const tied = this.tied;
      const g = mirrorOf(this.t).subarray(tied.start, tied.end);
      await ctx.readInto(this.gradView(tied), g);
      const group = this.place.tiedEmbeddingGroup!;
      const half = this.place.half;
      const summed = await timed(() =>
        half
          ? compressedAllReduce(comm, group.ranks, g, { codec: halfCodec(half), tag: `tied:${this.t.step}` })
          : comm.allReduce(g, group, 'sum'),
      );
      if (this.dp > 1) await timed(() => this.reduceRange(tied, summed, 'tied'));
      else this.t.writeGrads(summed, tied.start);
    }
    // replicas without ZeRO hold the same averaged gradients, but are asked all the same (no norm
    // group covers them); local SGD's replicas step on their own
    const replicas = this.dp > 1;
    const optimizerMs = await clipAndStep(this.t, this.place, timed, {
      overflowOverDp: replicas && !this.place.zero,
      gatherShards: replicas && this.place.zero,
      since: performance.now(),
    });
    return { allReduceMs: ms(), optimizerMs };
  }

  private issueUpTo(mark: number): void {
    while (this.issued < this.buckets.length && this.buckets[this.issued].readyAt <= mark) {
      const b = this.buckets[this.issued++];
      if (this.dpDevice) {
        // queued after this replica's backward so far (and the others'): no readback
        const done = this.dpDevice.allReduce(this.gradView(b), this.place.dpGroup, 'avg');
        done.catch(() => {});
        this.inFlight.push(done);
        continue;
      }
      // the readback is queued now, before the rest of the backward is submitted
      const host = mirrorOf(this.t).subarray(b.start, b.end);
      const done = this.t.ctx.readInto(this.gradView(b), host).then(() => this.reduceRange(b, host));
      done.catch(() => {}); // awaited in finish() or settle(); this keeps an early failure from going unhandled
      this.inFlight.push(done);
    }
  }

  /** Averages `g` (the gradients in `r`) over the replicas and writes what this rank keeps.
   *  Mixed precision: 16 bits on the wire, sums in f32 (without ZeRO a ring of the range alone;
   *  ZeRO-1's reduce-scatter cuts the ring of the whole vector, CollectiveOptions.wire). */
  private async reduceRange(r: Range, g: Float32Array, what = 'bucket'): Promise<void> {
    const { comm, dpGroup, half } = this.place;
    const group = { ...dpGroup, slice: { offset: r.start, total: this.flatLength }, ...(half ? { wire: half } : {}) };
    if (this.place.zero) {
      const mine = await comm.reduceScatter(g, group, 'avg');
      const kept = intersect(r, this.t.optRange);
      if (kept.end > kept.start) this.t.writeGrads(mine, kept.start);
    } else if (half) {
      const tag = `${dpGroup.name}:${what}:${this.t.step}:${r.start}`;
      this.t.writeGrads(
        await compressedAllReduce(comm, dpGroup.ranks, g, { codec: halfCodec(half), op: 'avg', tag }),
        r.start,
      );
    } else this.t.writeGrads(await comm.allReduce(g, group, 'avg'), r.start);
  }

  /** The TP-replicated gradients this rank keeps (with ZeRO: its optimizer range of them), summed
   *  over the TP group (whose members hold the same ranges: same stage, same replica). */
  private async sumReplicated(tpGroup: GroupSpec): Promise<void> {
    const { layout } = this.t.model;
    const r = this.place.zero ? intersect(layout.replicated, this.t.optRange) : layout.replicated;
    if (r.end <= r.start) return;
    const name = `${tpGroup.name}:seq-grads`;
    const dev = deviceFor(this.place.comm, tpGroup, this.t.ctx);
    if (dev) return dev.allReduce(this.gradView(r), { ...tpGroup, name }, 'sum');
    const g = mirrorOf(this.t).subarray(r.start, r.end);
    await this.t.ctx.readInto(this.gradView(r), g);
    const half = this.place.half;
    const group = { ...tpGroup, name, ...(half ? { wire: half } : {}) };
    const summed = await this.place.comm.allReduce(g, group, 'sum');
    this.t.writeGrads(summed, r.start);
  }

  private gradView(r: Range) {
    const flat = this.t.model.flat('grads', true);
    return { ...flat, offset: r.start * 4, length: r.end - r.start, shape: [r.end - r.start] };
  }
}

/** The synchronisation of one step for the trainer's ZeRO stage. */
export function gradSyncFor(t: Trainer, place: GradSyncPlace, lastBackward?: Program): GradSync | ShardedGradSync {
  return t.zeroStage >= 2 ? new ShardedGradSync(t, place) : new GradSync(t, place, lastBackward);
}

/** The whole synchronisation after a backward that ran without hooks. */
export function syncAndUpdate(t: Trainer, place: GradSyncPlace): Promise<SyncTimes> {
  return new GradSync(t, place).finish();
}
