// One rank per tab: a PeerTransport plus checks and timings that Playwright drives as
// window.comm.*. Inputs are generated from seeds in the page, so no tensor crosses CDP;
// every collective result is compared bit-for-bit with the CPU reference.
import * as Comlink from 'comlink';
import { allGather, allReduce, barrier, broadcast, reduceScatter } from '../../src/comm/collectives';
import { Group } from '../../src/comm/group';
import { unlockHostCandidates } from '../../src/comm/ice';
import { chunkBounds } from '../../src/comm/ring-plan';
import { PeerTransport, type PeerTransportOptions } from '../../src/comm/peerjs-transport';
import {
  firstBitDifference,
  referenceAllGather,
  referenceAllReduce,
  referenceReduceScatter,
} from '../../src/comm/reference';
import { testBytes, testSlice, testTensor } from '../../src/comm/test-helpers';
import { serveComm } from '../../src/comm/worker-bridge';
import type { CommWorkerApi } from './comm.worker';

export type CollectiveName =
  | 'allReduce'
  | 'allReduceAvg'
  | 'reduceScatter'
  | 'allGather'
  /** all-gather of testSlice(length), each rank filling its ring chunk of it */
  | 'allGatherSlice'
  | 'broadcast'
  | 'barrier';

export interface CollectiveCheck {
  op: CollectiveName;
  ranks: number[];
  /** elements (for allGather: per piece) */
  length: number;
  seed: number;
  timeoutMs?: number;
  /** run through the rank worker (tensors transferred page ⇄ worker) instead of on the page */
  viaWorker?: boolean;
}

export interface CheckResult {
  ok: boolean;
  detail: string;
  ms: number;
}

let transport: PeerTransport | undefined;
let worker: Comlink.Remote<CommWorkerApi> | undefined;
const groups = new Map<string, Group>();

function need(): PeerTransport {
  if (!transport) throw new Error('comm page: connect() first');
  return transport;
}

function group(ranks: number[]): Group {
  const key = ranks.join(',');
  let g = groups.get(key);
  if (!g) groups.set(key, (g = new Group(need(), ranks)));
  return g;
}

function compare(got: Float32Array, want: Float32Array, what: string): CheckResult {
  const i = firstBitDifference(got, want);
  return {
    ok: i < 0,
    detail:
      i < 0
        ? `${what}: ${got.length} elements bit-exact`
        : `${what}: element ${i} is ${got[i]}, want ${want[i]} (lengths ${got.length}/${want.length})`,
    ms: 0,
  };
}

function expected(c: CollectiveCheck, position: number): { input: Float32Array; want?: Float32Array } {
  const inputs = c.ranks.map((r) => testTensor(c.seed * 1000 + r, c.length));
  switch (c.op) {
    case 'allReduce':
      return { input: inputs[position], want: referenceAllReduce(inputs, 'sum') };
    case 'allReduceAvg':
      return { input: inputs[position], want: referenceAllReduce(inputs, 'avg') };
    case 'reduceScatter':
      return { input: inputs[position], want: referenceReduceScatter(inputs, 'sum')[position] };
    case 'allGather':
      return { input: inputs[position], want: referenceAllGather(inputs) };
    case 'allGatherSlice': {
      const { offset, total } = testSlice(c.length);
      const whole = testTensor(c.seed * 1000, total);
      const own = chunkBounds(c.ranks.length, total)[position];
      const input = new Float32Array(c.length).fill(Number.NaN);
      const from = Math.max(offset, own.start),
        to = Math.min(offset + c.length, own.end);
      if (to > from) input.set(whole.subarray(from, to), from - offset);
      return { input, want: whole.slice(offset, offset + c.length) };
    }
    case 'broadcast':
      return { input: inputs[position], want: inputs[inputs.length - 1] };
    case 'barrier':
      return { input: new Float32Array(0) };
  }
}

async function runCollective(c: CollectiveCheck, input: Float32Array): Promise<Float32Array | undefined> {
  const g = group(c.ranks);
  const opts = { timeoutMs: c.timeoutMs };
  const root = c.ranks[c.ranks.length - 1];
  if (c.viaWorker) {
    if (!worker) throw new Error('comm page: no worker');
    const spec = { ranks: c.ranks, name: `w[${c.ranks.join(',')}]`, timeoutMs: c.timeoutMs };
    return worker
      .run(c.op, Comlink.transfer(input.buffer as ArrayBuffer, [input.buffer as ArrayBuffer]), spec, root)
      .then((b) => (b ? new Float32Array(b) : undefined));
  }
  switch (c.op) {
    case 'allReduce':
      return allReduce(g, input, 'sum', opts);
    case 'allReduceAvg':
      return allReduce(g, input, 'avg', opts);
    case 'reduceScatter':
      return reduceScatter(g, input, 'sum', opts);
    case 'allGather':
      return allGather(g, input, opts);
    case 'allGatherSlice':
      return allGather(g, input, { ...opts, slice: testSlice(c.length) });
    case 'broadcast':
      return broadcast(g, input, root, opts);
    case 'barrier':
      await barrier(g, opts);
      return undefined;
  }
}

const api = {
  async connect(
    opts: Omit<PeerTransportOptions, 'iceServers'>,
  ): Promise<{ ms: number; chunkBytes: number; unlocked: boolean }> {
    const t0 = performance.now();
    const unlocked = await unlockHostCandidates();
    transport = await PeerTransport.connect(opts);
    const w = new Worker(new URL('./comm.worker.ts', import.meta.url), { type: 'module' });
    const { port1, port2 } = new MessageChannel();
    serveComm(transport, port1);
    worker = Comlink.wrap<CommWorkerApi>(w);
    await worker.init(Comlink.transfer(port2, [port2]));
    return { ms: performance.now() - t0, chunkBytes: transport.chunkBytes, unlocked };
  },

  async send(to: number, tag: string, bytes: number, seed: number): Promise<{ ms: number }> {
    const data = testBytes(seed, bytes);
    const t0 = performance.now();
    await need().send(to, tag, data, { timeoutMs: 60_000 });
    return { ms: performance.now() - t0 };
  },

  async recv(from: number, tag: string, bytes: number, seed: number, timeoutMs = 60_000): Promise<CheckResult> {
    const t0 = performance.now();
    let got: Uint8Array;
    try {
      got = await need().recv(from, tag, { bytes, timeoutMs, op: 'p2p' });
    } catch (e) {
      return { ok: false, detail: (e as Error).message, ms: performance.now() - t0 };
    }
    const ms = performance.now() - t0;
    const want = testBytes(seed, bytes);
    let bad = -1;
    for (let i = 0; i < want.length && bad < 0; i++) if (got[i] !== want[i]) bad = i;
    return {
      ok: bad < 0 && got.length === bytes,
      detail: bad < 0 ? `${bytes} bytes intact` : `byte ${bad} differs`,
      ms,
    };
  },

  async check(c: CollectiveCheck): Promise<CheckResult> {
    const position = c.ranks.indexOf(need().rank);
    const { input, want } = expected(c, position);
    const t0 = performance.now();
    try {
      const got = await runCollective(c, input);
      const ms = performance.now() - t0;
      if (!want) return { ok: true, detail: `${c.op} done`, ms };
      return { ...compare(got!, want, `${c.op} rank ${need().rank}`), ms };
    } catch (e) {
      return { ok: false, detail: (e as Error).message, ms: performance.now() - t0 };
    }
  },

  /** Times `iters` all-reduces of `bytes` (f32 sum) on the page, each after a barrier. */
  async timeAllReduce(ranks: number[], bytes: number, iters: number): Promise<number[]> {
    const g = group(ranks);
    const data = testTensor(need().rank, bytes / 4);
    const times: number[] = [];
    for (let i = 0; i < iters; i++) {
      await barrier(g, { timeoutMs: 120_000 });
      const t0 = performance.now();
      await allReduce(g, data, 'sum', { timeoutMs: 120_000 });
      times.push(performance.now() - t0);
    }
    return times;
  },

  /** One-way throughput: `from` sends `bytes` to `to` after a barrier; the receiver times it. */
  async timeOneWay(from: number, to: number, bytes: number, tag: string): Promise<number | undefined> {
    const t = need();
    const g = group([from, to].sort((a, b) => a - b));
    const data = t.rank === from ? testBytes(1, bytes) : undefined;
    await barrier(g, { timeoutMs: 120_000 });
    const t0 = performance.now();
    if (data) {
      await t.send(to, tag, data, { timeoutMs: 120_000 });
      return undefined;
    }
    await t.recv(from, tag, { bytes, timeoutMs: 120_000 });
    return performance.now() - t0;
  },

  /** CPU reduction speed on this page: MB/s of `acc += incoming` over n floats. */
  cpuReduceMBps(n: number, reps: number): number {
    const a = testTensor(1, n);
    const b = testTensor(2, n);
    const t0 = performance.now();
    for (let r = 0; r < reps; r++) for (let i = 0; i < n; i++) a[i] = b[i] + a[i];
    return (n * 4 * reps) / 1e6 / ((performance.now() - t0) / 1000);
  },

  gpuReduceMBps(n: number, reps: number): Promise<{ MBps: number; detail: string }> {
    if (!worker) throw new Error('comm page: no worker');
    return worker.gpuReduceMBps(n, reps);
  },

  close(): void {
    transport?.close();
  },
};

export type CommPageApi = typeof api;
(window as unknown as { comm: CommPageApi }).comm = api;
