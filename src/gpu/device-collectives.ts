// Collectives among ranks that live in this process on one GPU device (the loopback worlds of
// tests, benches and tools/dev): no readback, no host. Each member posts its tensor after it
// has submitted the work that produces it; the last member to post encodes the reduction and
// submits it on the shared queue, which orders it after every member's earlier work, and every
// member's promise resolves (the work that reads the result is submitted after that, so the
// queue orders it after the reduction). Sums run in rank order into one scratch buffer and are
// copied out to every member: the same bits on each. Calls match by (group, n-th call of this
// member on that group), as the ring's tags do. A member that never posts fails the others
// after the group's timeout (no post for timeoutMs, as a stalled ring transfer), and a rank
// marked failed (`fail`) fails at once every collective that waits for it.
import { DEFAULT_TIMEOUT_MS } from '../comm/transport';
import type { GpuContext } from './context';
import { DeviceMailbox } from './device-p2p';
import { DeviceReducer, type Region } from './device-reduce';
import type { GpuTensor } from './tensor';

export type DeviceReduceOp = 'sum' | 'avg';

/** A group as the comm layer names it (GroupSpec): members in rank order. */
export interface DeviceGroup {
  name?: string;
  ranks: readonly number[];
  timeoutMs?: number;
}

export interface SeqTensors {
  local: GpuTensor;
  full: GpuTensor;
}

/** One member's side of the device-local collectives. */
export interface DeviceCollectives {
  readonly rank: number;
  readonly ctx: GpuContext;
  /** whether every rank of `ranks` is a member here (then these collectives apply to the group) */
  covers(ranks: readonly number[]): boolean;
  /** in place: every member's `t` becomes Σ (or the mean) of all members' `t` */
  allReduce(t: GpuTensor, g: DeviceGroup, op?: DeviceReduceOp): Promise<void>;
  /** in place: `t` cut in group-size equal chunks, the member at group position i holds chunk i
   *  (a ZeRO shard); every member's `t` gets every chunk */
  allGather(t: GpuTensor, g: DeviceGroup): Promise<void>;
  /** sequence parallelism: member r's `local` (B, T/size, cols) is positions [r·T/size, (r+1)·T/size)
   *  of every sample; every member's `full` (B, T, cols) gets all of them */
  seqGather(pairs: readonly SeqTensors[], B: number, T: number, g: DeviceGroup): Promise<void>;
  /** Σ over the members of `full` (B, T, cols); member r's `local` gets its positions of it */
  seqReduceScatter(full: GpuTensor, local: GpuTensor, B: number, T: number, g: DeviceGroup): Promise<void>;
  /** point to point (device-p2p.ts): `t`'s copy for rank `to` is queued before this resolves */
  send(to: number, tag: string, t: GpuTensor): Promise<void>;
  /** `into` gets what rank `from` sent with `tag` (its copy queued before this resolves) */
  recv(from: number, tag: string, into: GpuTensor): Promise<void>;
  /** this rank failed: whatever waits for it fails now, and so will later calls that need it */
  fail(error: unknown): void;
}

type Post =
  | { kind: 'allReduce'; n: number; t: GpuTensor; op: DeviceReduceOp }
  | { kind: 'allGather'; n: number; t: GpuTensor }
  | { kind: 'seqGather'; n: number; pairs: readonly SeqTensors[]; B: number; T: number }
  | { kind: 'seqReduceScatter'; n: number; full: GpuTensor; local: GpuTensor; B: number; T: number };

interface Pending {
  what: string;
  ranks: readonly number[];
  posts: (Post | undefined)[];
  waiters: { resolve: () => void; reject: (e: Error) => void }[];
  timeoutMs: number;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface DeviceHubOptions {
  /** at most this many elements per reduction piece (tests; default as large as one binding allows) */
  pieceElems?: number;
}

const groupKey = (g: DeviceGroup) => g.name ?? `[${g.ranks.join(',')}]`;
/** run()'s promise, or a rejected one where run throws */
const rejecting = (run: () => Promise<void>): Promise<void> => {
  try {
    return run();
  } catch (e) {
    return Promise.reject(e);
  }
};
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The members of one process on one device: `member(rank)` for each rank that runs here. */
export class DeviceHub {
  readonly reducer: DeviceReducer;
  readonly mailbox: DeviceMailbox;
  private readonly members: ReadonlySet<number>;
  private readonly pending = new Map<string, Pending>();
  private readonly failed = new Map<number, string>();
  /** how many collectives ran on the device (for reports) */
  completed = 0;

  constructor(
    readonly ctx: GpuContext,
    ranks: readonly number[],
    opts: DeviceHubOptions = {},
  ) {
    this.reducer = new DeviceReducer(ctx, opts.pieceElems);
    this.mailbox = new DeviceMailbox(ctx);
    this.members = new Set(ranks);
  }

  member(rank: number): DeviceCollectives {
    if (!this.members.has(rank)) throw new Error(`DeviceHub: rank ${rank} is not one of this device's ranks`);
    const calls = new Map<string, number>();
    const post = (g: DeviceGroup, p: Post, name: string) => {
      const key = groupKey(g);
      const n = calls.get(key) ?? 0;
      calls.set(key, n + 1);
      return this.post(`device ${name} '${key}' #${n}`, `${key}#${n}`, g, rank, p);
    };
    return {
      rank,
      ctx: this.ctx,
      covers: (ranks) => ranks.every((r) => this.members.has(r)),
      allReduce: (t, g, op = 'sum') => post(g, { kind: 'allReduce', n: t.length, t, op }, 'all-reduce'),
      allGather: (t, g) => post(g, { kind: 'allGather', n: t.length, t }, 'all-gather'),
      seqGather: (pairs, B, T, g) =>
        post(g, { kind: 'seqGather', n: pairs.reduce((s, p) => s + p.local.length, 0), pairs, B, T }, 'all-gather'),
      seqReduceScatter: (full, local, B, T, g) =>
        post(g, { kind: 'seqReduceScatter', n: full.length, full, local, B, T }, 'reduce-scatter'),
      send: (to, tag, t) => rejecting(() => this.mailbox.send(rank, this.peer(to, 'send to'), tag, t)),
      recv: (from, tag, into) => rejecting(() => this.mailbox.recv(this.peer(from, 'receive from'), rank, tag, into)),
      fail: (e) => this.fail(rank, e),
    };
  }

  private post(what: string, key: string, g: DeviceGroup, rank: number, p: Post): Promise<void> {
    const at = g.ranks.indexOf(rank);
    if (at < 0) return Promise.reject(new Error(`${what}: rank ${rank} is not in the group [${g.ranks.join(',')}]`));
    const dead = g.ranks.find((r) => this.failed.has(r));
    if (dead !== undefined)
      return Promise.reject(new Error(`${what}: rank ${dead} of the group failed: ${this.failed.get(dead)}`));
    let e = this.pending.get(key);
    if (!e) {
      e = {
        what,
        ranks: g.ranks,
        posts: g.ranks.map(() => undefined),
        waiters: [],
        timeoutMs: g.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        timer: null,
      };
      this.pending.set(key, e);
    }
    const entry = e;
    const first = entry.posts.find((q) => q !== undefined);
    if (entry.posts[at]) return Promise.reject(new Error(`${what}: rank ${rank} posted twice`));
    if (first && (first.kind !== p.kind || first.n !== p.n)) {
      const err = new Error(
        `${what}: rank ${rank} posted ${p.kind} of ${p.n} elements, another member ${first.kind} of ${first.n} elements`,
      );
      this.settle(key, entry, err);
      return Promise.reject(err);
    }
    entry.posts[at] = p;
    const done = new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    if (entry.posts.every((q) => q !== undefined)) {
      try {
        this.encode(entry.posts as Post[]);
        this.completed++;
        this.settle(key, entry, null);
      } catch (err) {
        this.settle(key, entry, new Error(`${what}: ${errorText(err)}`));
      }
    } else {
      // no post for timeoutMs: the members that did post give up (as a stalled ring transfer does)
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = setTimeout(() => {
        const missing = entry.ranks.filter((_, i) => !entry.posts[i]);
        this.settle(
          key,
          entry,
          new Error(`${what}: no post from rank(s) ${missing.join(',')} for ${entry.timeoutMs} ms`),
        );
      }, entry.timeoutMs);
    }
    return done;
  }

  private settle(key: string, e: Pending, err: Error | null): void {
    if (e.timer) clearTimeout(e.timer);
    this.pending.delete(key);
    for (const w of e.waiters) err ? w.reject(err) : w.resolve();
  }

  private peer(rank: number, what: string): number {
    if (!this.members.has(rank)) throw new Error(`DeviceHub: cannot ${what} rank ${rank}: not on this device`);
    return rank;
  }

  private fail(rank: number, error: unknown): void {
    this.failed.set(rank, errorText(error));
    this.mailbox.fail(rank, errorText(error));
    for (const [key, e] of [...this.pending]) {
      const at = e.ranks.indexOf(rank);
      if (at >= 0 && !e.posts[at])
        this.settle(key, e, new Error(`${e.what}: rank ${rank} failed: ${errorText(error)}`));
    }
  }

  /** Encodes and submits the collective over every member's post (in group order). */
  private encode(posts: Post[]): void {
    const enc = this.ctx.device.createCommandEncoder({ label: 'device-collective' });
    const p0 = posts[0];
    if (p0.kind === 'allReduce') this.allReduce(enc, posts as Extract<Post, { kind: 'allReduce' }>[]);
    else if (p0.kind === 'allGather') this.allGather(enc, posts as Extract<Post, { kind: 'allGather' }>[]);
    else if (p0.kind === 'seqGather') this.seqGather(enc, posts as Extract<Post, { kind: 'seqGather' }>[]);
    else this.seqReduceScatter(enc, posts as Extract<Post, { kind: 'seqReduceScatter' }>[]);
    this.ctx.device.queue.submit([enc.finish()]);
  }

  private allReduce(enc: GPUCommandEncoder, posts: Extract<Post, { kind: 'allReduce' }>[]): void {
    const n = posts[0].n,
      piece = this.reducer.pieceElems(posts.length);
    const divisor = posts[0].op === 'avg' ? posts.length : 1;
    for (let at = 0; at < n; at += piece) {
      const len = Math.min(piece, n - at);
      const ins: Region[] = posts.map((p) => ({ buffer: p.t.buffer, offset: p.t.offset + at * 4 }));
      const sum = this.reducer.encodeSum(enc, ins, len, divisor);
      for (const r of ins) enc.copyBufferToBuffer(sum.buffer, sum.offset, r.buffer, r.offset, len * 4);
    }
  }

  private allGather(enc: GPUCommandEncoder, posts: Extract<Post, { kind: 'allGather' }>[]): void {
    const chunk = posts[0].n / posts.length;
    if (!Number.isInteger(chunk)) throw new Error(`${posts[0].n} elements do not split into ${posts.length} chunks`);
    posts.forEach((from, i) => {
      const at = from.t.offset + i * chunk * 4;
      for (const to of posts)
        if (to !== from) enc.copyBufferToBuffer(from.t.buffer, at, to.t.buffer, to.t.offset + i * chunk * 4, chunk * 4);
    });
  }

  private seqGather(enc: GPUCommandEncoder, posts: Extract<Post, { kind: 'seqGather' }>[]): void {
    const size = posts.length,
      { B, T } = posts[0];
    posts[0].pairs.forEach((_, i) => {
      const run = posts[0].pairs[i].local.length / B; // span · cols
      const cols = posts[0].pairs[i].full.length / (B * T);
      posts.forEach((from, r) => {
        const local = from.pairs[i].local;
        for (let b = 0; b < B; b++)
          for (const to of posts) {
            const full = to.pairs[i].full;
            const dst = full.offset + (b * T * cols + r * run) * 4;
            enc.copyBufferToBuffer(local.buffer, local.offset + b * run * 4, full.buffer, dst, run * 4);
          }
      });
      if (run * size !== T * cols) throw new Error(`${size} parts of ${run} per sample are not (T ${T}, cols ${cols})`);
    });
  }

  private seqReduceScatter(enc: GPUCommandEncoder, posts: Extract<Post, { kind: 'seqReduceScatter' }>[]): void {
    const { n, B, T } = posts[0],
      size = posts.length;
    if (n > this.reducer.pieceElems(size)) throw new Error(`${n} elements exceed one reduction piece`);
    const run = n / (B * size); // span · cols per sample and rank
    if (!Number.isInteger(run) || posts.some((p) => p.local.length !== B * run))
      throw new Error(`(B ${B}, T ${T}, cols) does not split ${size} ways along T into the local tensors`);
    const sum = this.reducer.encodeSum(
      enc,
      posts.map((p) => ({ buffer: p.full.buffer, offset: p.full.offset })),
      n,
      1,
    );
    posts.forEach((p, r) => {
      for (let b = 0; b < B; b++)
        enc.copyBufferToBuffer(
          sum.buffer,
          sum.offset + (b * size + r) * run * 4,
          p.local.buffer,
          p.local.offset + b * run * 4,
          run * 4,
        );
    });
  }
}

/** A hub for ranks 0..world-1, all on `ctx` (a loopback world): `member(r)` once per rank. */
export function deviceWorld(ctx: GpuContext, world: number, opts: DeviceHubOptions = {}): DeviceHub {
  return new DeviceHub(
    ctx,
    Array.from({ length: world }, (_, r) => r),
    opts,
  );
}
