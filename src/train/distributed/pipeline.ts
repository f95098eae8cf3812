// Pipeline parallelism: one stage's step runs its 1F1B op list (src/parallel/schedule.ts)
// in order. Activations go forward and gradients backward over the transport; micro-batch
// i lives in activation slot i mod K (K = the most micro-batches the stage holds in flight); under
// interleaved 1F1B each op names its chunk (chunk-route.ts) and the chunks share the slots
// (src/parallel/slots.ts).
// The host never waits for the GPU between ops: a forward or backward is recorded work that is
// submitted and left to run; a send queues the tensor's copy at once (so later work cannot
// overwrite what is sent) and its readback and transfer finish in the background while the
// stage goes on; the step waits for them before the gradient sync. Between ranks that share this
// process's GPU device (loopback worlds) an f32 tensor goes as a copy on the device instead
// (gpu/device-p2p.ts): no readback, and the host waits for nothing. The last backward starts
// the data-parallel gradient buckets as it finishes them (grad-sync.ts; with ZeRO-2/3 every
// backward does, grad-shard-sync.ts), which then makes the gradients global and steps the optimizer.
import { decodeRows, encodeRows, rowCodecBytes } from '../../comm/compress/row-codec';
import type { GroupSpec } from '../../comm/worker-bridge';
import type { PipeCodec } from '../../config/local-sgd';
import type { ScheduleOp } from '../../parallel/ops';
import { slotPlan } from '../../parallel/slots';
import type { OpSpan, StepBreakdown } from '../events';
import type { HalfFormat } from '../precision';
import type { StepResult, MicroBatch, Trainer } from '../trainer';
import type { GpuTensor } from '../../gpu/tensor';
import { chunkTag } from './chunk-route';
import { gradSyncFor, type GradSyncPlace, type SyncTimes } from './grad-sync';
import { halfWireBytes, halfWireOf } from './half-wire-gpu';
import { deviceFor, type RankComm } from './rank-comm';

export interface PipelinePlace extends GradSyncPlace {
  comm: RankComm;
  stage: number;
  stages: number;
  /** global ranks of the neighbouring stages in this rank's pipeline */
  prevRank: number | null;
  nextRank: number | null;
  ppGroup: GroupSpec;
  ops: readonly ScheduleOp[];
  /** what activations and their gradients travel as (pipe_compression; default f32) */
  pipeCodecs?: { activations: PipeCodec; gradients: PipeCodec };
  /** mixed precision: activations and gradients otherwise sent as f32 go as this 16-bit format */
  half?: HalfFormat;
}

/** How a pipeline tensor travels: a pipe_compression codec, or mixed precision's plain 16 bits. */
export type PipeFormat = PipeCodec | { half: HalfFormat };

/** The format of one direction: pipe_compression's codec, else the run's 16-bit format, else f32. */
export function pipeFormat(place: PipelinePlace, what: 'activation' | 'grad'): PipeFormat {
  const codec = (what === 'activation' ? place.pipeCodecs?.activations : place.pipeCodecs?.gradients) ?? 'none';
  return codec === 'none' && place.half ? { half: place.half } : codec;
}

/** A (rows, cols) f32 tensor read back from the GPU → the bytes to send with `codec`. */
export function pipeWire(codec: PipeCodec, raw: ArrayBuffer, rows: number, cols: number): Uint8Array {
  return codec === 'none' ? new Uint8Array(raw) : encodeRows(codec, new Float32Array(raw), rows, cols);
}

/** Received bytes → the f32 tensor to write to the GPU. */
export function pipeUnwire(codec: PipeCodec, got: Uint8Array, rows: number, cols: number): Float32Array {
  return codec === 'none'
    ? new Float32Array(got.buffer, got.byteOffset, got.byteLength / 4)
    : decodeRows(codec, got, rows, cols);
}

export function pipeBytes(codec: PipeFormat, rows: number, cols: number): number {
  return typeof codec === 'object' ? halfWireBytes(rows * cols) : rowCodecBytes(codec, rows, cols);
}

/** Reads src: (rows, cols) for sending; the GPU copy is queued before this returns. 16-bit
 *  formats are packed on the GPU first (half the readback). */
export function readForWire(t: Trainer, codec: PipeFormat, src: GpuTensor): Promise<Uint8Array> {
  if (typeof codec === 'object') return halfWireOf(t).read(src, codec.half);
  return t.ctx.readRaw(src).then((raw) => pipeWire(codec, raw, t.model.rows, t.model.spec.C));
}

/** Writes received bytes into dst: (rows, cols) (16-bit formats unpacked on the GPU). */
export function writeFromWire(t: Trainer, codec: PipeFormat, dst: GpuTensor, got: Uint8Array): void {
  if (typeof codec === 'object') halfWireOf(t).write(dst, got, codec.half);
  else t.ctx.write(dst, pipeUnwire(codec, got, t.model.rows, t.model.spec.C));
}

export async function pipelineStep(
  t: Trainer,
  place: PipelinePlace,
  micro: readonly MicroBatch[],
): Promise<StepResult & { breakdown: StepBreakdown }> {
  const { comm, ops } = place;
  const { ctx, model } = t;
  const t0 = performance.now();
  const v = model.chunks.length;
  const sets = slotPlan(ops, v, model.slotsPerChunk);
  const lr = t.beginStep();
  const step = t.step;
  const slotOf = (op: { microbatch: number; chunk?: number }) => model.slotIndex(op.chunk ?? 0, sets.slotOf(op));
  const globalOf = (chunk = 0) => chunk * place.stages + place.stage;
  const rankOfStage = (what: string, mb: number, s: number) => {
    const r = place.ppGroup.ranks[s];
    if (s === place.stage || r === undefined)
      throw new Error(`stage ${place.stage}: schedule moves ${what} ${mb} to or from stage ${s}, not a peer`);
    return r;
  };
  const [rows, cols] = [model.rows, model.spec.C];
  const codecOf = (what: 'activation' | 'grad'): PipeFormat => pipeFormat(place, what);
  // tagged with the global chunk that consumes the tensor (interleaved only)
  const tag = (what: string, mb: number, consumer: number) => chunkTag(`pp:${what}:${step}:${mb}`, consumer, v);
  let computeMs = 0,
    p2pMs = 0;
  const spans: OpSpan[] = [];
  const sending: Promise<void>[] = [];
  // benchmarks' own-work timing waits for the GPU after each compute op (GpuContext.measureOps)
  const measure = ctx.measureOps;
  const lastBackward = ops.findLastIndex((op) => op.kind === 'backward');
  const last = ops[lastBackward];
  const grads = gradSyncFor(t, place, last && 'microbatch' in last ? model.slots[slotOf(last)].backward : undefined);
  let sync: SyncTimes;
  let g0 = 0;
  try {
    for (const [i, op] of ops.entries()) {
      const k = slotOf(op);
      const { acts, range } = model.slots[k];
      const s0 = performance.now();
      switch (op.kind) {
        case 'forward':
          t.upload(micro[op.microbatch], k, { tokens: range.hasEmbedding, targets: range.hasHead });
          await t.run(t.forwardOf(k));
          break;
        case 'backward':
          await t.run(model.slots[k].backward, grads.backwardHooks(i === lastBackward, measure));
          break;
        case 'send': {
          const src = op.what === 'activation' ? acts.xFinal : acts.dx;
          const to = rankOfStage(`sends ${op.what}`, op.microbatch, op.peerStage);
          const sendTag = tag(op.what, op.microbatch, globalOf(op.chunk) + (op.what === 'activation' ? 1 : -1));
          const codec = codecOf(op.what);
          const device = codec === 'none' ? deviceFor(comm, { ranks: [comm.rank, to] }, ctx) : null;
          const done = device
            ? device.send(to, sendTag, src)
            : readForWire(t, codec, src).then((bytes) => comm.send(to, sendTag, bytes));
          done.catch(() => {}); // awaited with the others below; this keeps an early failure from going unhandled
          sending.push(done);
          break;
        }
        case 'recv': {
          const from = rankOfStage(`receives ${op.what}`, op.microbatch, op.peerStage);
          const codec = codecOf(op.what);
          const into = op.what === 'activation' ? model.inputOf(k) : acts.dx;
          const recvTag = tag(op.what, op.microbatch, globalOf(op.chunk));
          const device = codec === 'none' ? deviceFor(comm, { ranks: [from, comm.rank] }, ctx) : null;
          if (device) {
            await device.recv(from, recvTag, into);
            break;
          }
          const got = await comm.recv(from, recvTag, pipeBytes(codec, rows, cols));
          writeFromWire(t, codec, into, got);
          break;
        }
      }
      const compute = op.kind === 'forward' || op.kind === 'backward';
      if (compute && measure) await ctx.sync();
      const s1 = performance.now();
      if (compute) computeMs += s1 - s0;
      else p2pMs += s1 - s0;
      spans.push({ kind: op.kind, microbatch: op.microbatch, startMs: s0 - t0, endMs: s1 - t0 });
    }
    const w0 = performance.now();
    await Promise.all(sending);
    p2pMs += performance.now() - w0;
    g0 = performance.now();
    sync = await grads.finish();
  } catch (e) {
    // nothing of this step may still be running when the caller moves on (e.g. undoes the step)
    await Promise.allSettled([...sending, grads.settle()]);
    throw e;
  }
  spans.push(
    { kind: 'allreduce', startMs: g0 - t0, endMs: g0 - t0 + sync.allReduceMs },
    { kind: 'optimizer', startMs: g0 - t0 + sync.allReduceMs, endMs: performance.now() - t0 },
  );
  const r = await t.finishStep(lr, micro.length, async (loss) =>
    place.stages > 1
      ? (await comm.allReduce(Float32Array.of(loss), { ...place.ppGroup, name: 'pp-loss' }, 'sum'))[0]
      : loss,
  );
  return { ...r, breakdown: { computeMs, p2pMs, ...sync, totalMs: performance.now() - t0, spans } };
}
