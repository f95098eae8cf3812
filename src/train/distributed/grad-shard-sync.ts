// ZeRO-2/3's gradient synchronisation: the rank never holds the full averaged gradient.
//   1. every backward (each micro-batch, as DeepSpeed's stage 2 does): right after a layer's
//      backward, its runs of the gradient window are read back and reduce-scattered (mean over
//      the replicas, ring chunks of the whole flat vector: CollectiveOptions.slice), and this
//      rank adds its part to its shard, in issue order; the next layer's backward clears the
//      window's layer region and reuses it;
//   2. after the step's last backward, the window's rest (embedding, final norm, head: summed
//      over all micro-batches there) is reduce-scattered the same way, a tied embedding first
//      summed over its two stages;
//   2b. sequence parallelism: the TP-replicated gradients in the shard (each TP rank's positions)
//      are summed over the TP group (whose ranks hold the same shard ranges);
//   3. the global gradient norm over the shards, clip + AdamW on the shard; then stage 2
//      all-gathers the updated parameters (as ZeRO-1), stage 3 keeps only its shard.
// With mixed precision every one of these collectives carries 16-bit values (GradSyncPlace.half);
// the partial sums are added, and the shard accumulated, in f32.
import type { GroupSpec } from '../../comm/worker-bridge';
import type { Range } from '../../gpu/kernels/optimizer';
import { REST, runsOf, unitOf, windowOffset } from '../../model/param-window';
import type { RunHooks } from '../../model/run-program';
import type { Trainer } from '../trainer';
import { clipAndStep, commTimer } from './clip-and-step';
import type { GradSyncPlace, SyncTimes } from './grad-sync';

const intersect = (a: Range, b: Range): Range => ({ start: Math.max(a.start, b.start), end: Math.min(a.end, b.end) });

/** [start, end) minus `hole` (when it lies inside), as up to two ranges. */
function without(r: Range, hole: Range | null): Range[] {
  if (!hole || hole.end <= r.start || hole.start >= r.end) return [r];
  return [
    { start: r.start, end: hole.start },
    { start: hole.end, end: r.end },
  ].filter((x) => x.end > x.start);
}

export class ShardedGradSync {
  /** (optRange length) this rank's shard of the step's averaged gradients, summed on the host */
  private readonly acc: Float32Array;
  private added: Promise<void> = Promise.resolve();
  private readonly inFlight: Promise<void>[] = [];
  private readonly tied: Range | null;

  constructor(
    private readonly t: Trainer,
    private readonly place: GradSyncPlace,
  ) {
    if (t.zeroStage < 2) throw new Error(`ShardedGradSync: the trainer runs ZeRO stage ${t.zeroStage}`);
    this.acc = new Float32Array(t.optRange.end - t.optRange.start);
    const wte = place.tiedEmbeddingGroup ? t.model.layout.byName.get('embed.wte')! : null;
    this.tied = wte ? { start: wte.offset, end: wte.offset + wte.length } : null;
  }

  /** Every backward reduces its layers' gradients as it finishes them (measured or not). */
  backwardHooks(_last: boolean, _measuring = false): RunHooks {
    return {
      onMark: (finished) => {
        const unit = finished.length > 0 ? unitOf(finished[0]) : REST;
        if (unit === REST) return; // the rest accumulates over the step's micro-batches
        for (const r of runsOf(this.t.model.window, unit)) this.issue(r);
      },
    };
  }

  async settle(): Promise<void> {
    await Promise.allSettled(this.inFlight);
  }

  async finish(): Promise<SyncTimes> {
    const { comm } = this.place;
    const { ctx, model } = this.t;
    const { timed, ms } = commTimer();
    if (this.tied) {
      const g = await this.read(this.tied);
      const summed = await timed(() => comm.allReduce(g, this.wired(this.place.tiedEmbeddingGroup!), 'sum'));
      this.add(this.tied, this.reduce(this.tied, summed));
    }
    for (const run of runsOf(model.window, REST)) for (const r of without(run, this.tied)) this.issue(r);
    await timed(() => Promise.all(this.inFlight));
    if (this.place.seqParallelGroup) await timed(() => this.sumReplicated(this.place.seqParallelGroup!));
    const since = performance.now();
    ctx.write(this.t.gradShard!, this.acc);
    // the norm groups include DP here: the overflow flag reaches every replica with Σ g²
    const gatherShards = this.t.zeroStage === 2;
    const optimizerMs = await clipAndStep(this.t, this.place, timed, { overflowOverDp: false, gatherShards, since });
    return { allReduceMs: ms(), optimizerMs };
  }

  /** Sequence parallelism: the shard's TP-replicated gradients summed over the TP group. */
  private async sumReplicated(tpGroup: NonNullable<GradSyncPlace['seqParallelGroup']>): Promise<void> {
    const { start: o0 } = this.t.optRange;
    const r = intersect(this.t.model.layout.replicated, this.t.optRange);
    if (r.end <= r.start) return;
    const part = this.acc.subarray(r.start - o0, r.end - o0);
    const name = `${tpGroup.name}:seq-grads`;
    part.set(await this.place.comm.allReduce(part.slice(), this.wired({ ...tpGroup, name }), 'sum'));
  }

  /** The group with mixed precision's 16-bit wire, if any. */
  private wired(g: GroupSpec): GroupSpec {
    return this.place.half ? { ...g, wire: this.place.half } : g;
  }

  /** Reads flat range `r` of the gradient window back (queued now) and reduces it. */
  private issue(r: Range): void {
    this.add(
      r,
      this.read(r).then((g) => this.reduce(r, g)),
    );
  }

  private read(r: Range): Promise<Float32Array> {
    const host = new Float32Array(r.end - r.start);
    const at = windowOffset(this.t.model.window, r.start, r.end);
    const view = { buffer: this.t.model.grads, offset: at * 4, length: host.length, shape: [host.length] };
    return this.t.ctx.readInto(view, host).then(() => host);
  }

  /** The mean over the replicas of `g` (flat range `r`): this rank's part of it. */
  private reduce(r: Range, g: Float32Array): Promise<Float32Array> {
    const { comm, dpGroup } = this.place;
    return comm.reduceScatter(
      g,
      this.wired({ ...dpGroup, slice: { offset: r.start, total: this.t.model.flatLength } }),
      'avg',
    );
  }

  /** Adds this rank's part of range `r` to the shard once it and everything issued before it are in. */
  private add(r: Range, mine: Promise<Float32Array>): void {
    const { start: o0 } = this.t.optRange;
    const kept = intersect(r, this.t.optRange);
    const done = Promise.all([this.added, mine]).then(([, part]) => {
      const into = this.acc.subarray(kept.start - o0, kept.start - o0 + part.length);
      for (let i = 0; i < part.length; i++) into[i] += part[i];
    });
    done.catch(() => {}); // awaited in finish() or settle(); this keeps an early failure from going unhandled
    this.added = done;
    this.inFlight.push(done);
  }
}
