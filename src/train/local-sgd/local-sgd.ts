// Federated (DiLoCo-style) rounds for one rank: each data-parallel replica takes ordinary inner
// steps on its own data; every H steps a fragment's pseudo-gradient Δ = start − end is averaged
// over the replicas (optionally int8 on the wire with error feedback), the outer optimizer moves
// the shared start point, and the rank continues from it. With TP × PP inside a replica, each
// rank does this for its own shard, over its data-parallel group (the ranks holding the same shard).
//
// Where the state lives: on the host. Δ must cross to the host for the network anyway, and the
// averaged result must come back: a GPU-resident start point would save neither transfer (one
// readback and one upload of the fragment per sync, either way), only ~5 flops per parameter once
// every H steps, which the host does in a fraction of one inner step. Host memory holds `start`
// (4 bytes/param), the momentum (4, when μ > 0) and the error-feedback residual (4, with int8).
//
// The loop calls, per rank:
//   const sgd = new LocalSgd(localSgdSettings(config.local_sgd), { length, totalSteps, allReduce });
//   sgd.begin(initialParams);                                  // identical on every replica
//   after each inner step:  reports = await sgd.afterStep(stepsDone, paramIo);

import type { LocalSgdConfig } from '../../config/local-sgd';
import { codecFor, type WireCodec } from '../../comm/compress/wire-codec';
import { outerStep, pseudoGradient, type OuterHyper } from './outer-optimizer';
import { fragmentRanges, fragmentsStartingAt, type FragmentRange } from './schedule';

export interface LocalSgdSettings {
  innerSteps: number;
  outer: OuterHyper;
  codec: WireCodec;
  errorFeedback: boolean;
  fragments: number;
  overlapSteps: number;
  mix: number;
}

export function localSgdSettings(c: LocalSgdConfig): LocalSgdSettings {
  return {
    innerSteps: c.inner_steps,
    outer: { type: c.outer_optimizer.type, lr: c.outer_optimizer.lr, momentum: c.outer_optimizer.momentum },
    codec: codecFor(c.compression),
    errorFeedback: c.compression.type !== 'none' && c.compression.error_feedback,
    fragments: c.streaming.fragments,
    overlapSteps: c.streaming.overlap_steps,
    mix: c.streaming.mix,
  };
}

/** The rank's flat parameters (the Trainer's, or a test's plain array). */
export interface ParamIo {
  read(range: FragmentRange): Promise<Float32Array>;
  write(values: Float32Array, offset: number): void | Promise<void>;
}

/** Averages `delta` over the data-parallel replicas in place (every replica calls it with the
 *  same tag), updating `residual` when error feedback is on; resolves with the bytes this rank sent. */
export type ReplicaAverage = (
  delta: Float32Array,
  tag: string,
  codec: WireCodec,
  residual: Float32Array | undefined,
) => Promise<{ bytesSent: number }>;

/** One fragment's sync, for the admin page and the logs. */
export interface OuterRoundReport {
  /** inner step count after which the sync started, and at which it was applied */
  startedAt: number;
  appliedAt: number;
  fragment: number;
  fragments: number;
  /** values synced (this rank's part of the fragment) */
  values: number;
  bytesSent: number;
  /** ‖averaged Δ‖₂ and ‖start' − start‖₂ over this rank's part */
  deltaNorm: number;
  updateNorm: number;
  /** wall time of the all-reduce (ms) */
  ms: number;
}

interface Pending {
  fragment: number;
  startedAt: number;
  finishAt: number;
  work: Promise<{ delta: Float32Array; bytesSent: number; ms: number }>;
}

function norm(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

export class LocalSgd {
  readonly ranges: FragmentRange[];
  private start: Float32Array | null = null;
  private readonly momentum: Float32Array | null;
  private readonly residual: Float32Array | undefined;
  private readonly pending = new Map<number, Pending>();
  /** step count at which each fragment's latest sync started */
  private readonly lastStart: number[];

  constructor(
    readonly settings: LocalSgdSettings,
    private readonly opts: { length: number; totalSteps: number; allReduce: ReplicaAverage; align?: number },
  ) {
    this.ranges = fragmentRanges(opts.length, settings.fragments, opts.align ?? 1);
    this.momentum = settings.outer.momentum > 0 ? new Float32Array(opts.length) : null;
    this.residual = settings.errorFeedback ? new Float32Array(opts.length) : undefined;
    this.lastStart = Array(settings.fragments).fill(0);
  }

  /** The shared start point: the parameters every replica holds before its first inner step. */
  begin(params: Float32Array): void {
    if (params.length !== this.opts.length)
      throw new Error(`LocalSgd.begin: ${params.length} parameters, expected ${this.opts.length}`);
    this.start = params.slice();
  }

  /** The start point (a copy), e.g. for checkpoints or evaluation of the global model. */
  startPoint(): Float32Array {
    return this.need().slice();
  }

  /** Runs what is due after inner step number `done` (1-based): overlapped syncs that complete
   *  now, syncs that start now, and after the last step, everything. */
  async afterStep(done: number, io: ParamIo): Promise<OuterRoundReport[]> {
    const reports: OuterRoundReport[] = [];
    const last = done >= this.opts.totalSteps;
    for (const p of [...this.pending.values()])
      if (p.finishAt <= done || last) reports.push(await this.finish(p, done, io, true));
    const { innerSteps, fragments, overlapSteps } = this.settings;
    const due = new Set(fragmentsStartingAt(done, innerSteps, fragments));
    if (last) for (let f = 0; f < fragments; f++) if (this.lastStart[f] < done) due.add(f);
    for (const f of [...due].sort((a, b) => a - b)) {
      const p = await this.launch(f, done, io, last ? 0 : overlapSteps);
      if (p.finishAt === done) reports.push(await this.finish(p, done, io, false));
    }
    return reports;
  }

  private need(): Float32Array {
    if (!this.start) throw new Error('LocalSgd: begin(params) was not called');
    return this.start;
  }

  private async launch(f: number, done: number, io: ParamIo, overlap: number): Promise<Pending> {
    const start = this.need();
    const r = this.ranges[f];
    const end = await io.read(r);
    const delta = pseudoGradient(start.subarray(r.start, r.end), end);
    const t0 = performance.now();
    const work = this.opts
      .allReduce(delta, `localsgd:${done}:f${f}`, this.settings.codec, this.residual?.subarray(r.start, r.end))
      .then(({ bytesSent }) => ({ delta, bytesSent, ms: performance.now() - t0 }));
    work.catch(() => {}); // awaited in finish; this keeps an early failure from going unhandled
    const p: Pending = { fragment: f, startedAt: done, finishAt: done + overlap, work };
    this.lastStart[f] = done;
    this.pending.set(f, p);
    return p;
  }

  /** Applies the outer step to the start point; the rank's fragment becomes the new start point,
   *  or, when inner steps ran during the sync, mix·local + (1 − mix)·start. */
  private async finish(p: Pending, done: number, io: ParamIo, overlapped: boolean): Promise<OuterRoundReport> {
    this.pending.delete(p.fragment);
    const { delta, bytesSent, ms } = await p.work;
    const r = this.ranges[p.fragment];
    const start = this.need().subarray(r.start, r.end);
    const before = start.slice();
    outerStep(start, this.momentum?.subarray(r.start, r.end) ?? null, delta, this.settings.outer);
    let updateSq = 0;
    for (let i = 0; i < start.length; i++) updateSq += (start[i] - before[i]) ** 2;
    let next = start.slice();
    if (overlapped && done > p.startedAt) {
      const local = await io.read(r);
      const m = this.settings.mix;
      next = local.map((v, i) => m * v + (1 - m) * start[i]);
    }
    await io.write(next, r.start);
    return {
      startedAt: p.startedAt,
      appliedAt: done,
      fragment: p.fragment,
      fragments: this.settings.fragments,
      values: r.end - r.start,
      bytesSent,
      deltaNorm: norm(delta),
      updateNorm: Math.sqrt(updateSq),
      ms,
    };
  }
}
