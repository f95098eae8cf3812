// Runs a Program: consecutive dispatches share one compute pass, submitted every SUBMIT_EVERY
// dispatches (the GPU starts while the host records the rest). At a TP talk step the work
// before it is submitted, the tensor's readback is queued and its map requested, and only then
// is the work that does not touch the tensor submitted (in the backward, the weight gradients
// recorded after the input gradient): the GPU computes it while the host reads the partial
// sum, combines it over the TP group and writes it back. Mark steps, with a hook, submit what
// came before and tell the caller which parameters' gradients are finished. With mixed precision
// (TpCollectives.wire) a sequence-parallel collective's tensors are packed to 16 bits on the GPU
// before the readback (half-readback.ts). Fetch steps (ZeRO-3)
// submit what came before and wait for the caller to gather the next parameters into place.
// When the TP group's ranks share this GPU device in this process (`tp.device`), TP steps submit
// what came before and queue the collective on the device: no readback, no host.
import type { GpuContext } from '../gpu/context';
import { type Dispatch, dispatchTouches } from '../gpu/dispatch';
import type { GpuTensor } from '../gpu/tensor';
import { readHalf } from './half-readback';
import type { Program, TpCollectives } from './program';
import { assembleSequence, rankMajor } from './sequence-parallel';
import { combineVocabParallel } from './vocab-parallel';

/** Dispatches recorded before the pending work is submitted mid-pass: the GPU starts on the first
 *  of them while the host still encodes the rest of the pass (a whole step is ~500 dispatches). */
export const SUBMIT_EVERY = 64;
/** ...and before a pass's first submit: at a step's start the GPU has nothing else to do. */
export const FIRST_SUBMIT = 8;

export interface RunHooks {
  /** at each mark step (numbered from 0 in program order), after the work before it is submitted */
  onMark?(finished: readonly string[], index: number): void;
  /** at each fetch step, after the work before it is submitted: fills the parameter window */
  fetch?(unit: number): Promise<void>;
}

/** Splits `pending` at its last dispatch that touches any of `ts`: [what must run first, what need not]. */
export function splitAtLastUse(pending: readonly Dispatch[], ...ts: GpuTensor[]): [Dispatch[], Dispatch[]] {
  const ranges = ts.map((t) => ({ buffer: t.buffer, offset: t.offset, size: t.length * 4 }));
  let cut = pending.length;
  while (cut > 0 && !ranges.some((r) => dispatchTouches(pending[cut - 1], r))) cut--;
  return [pending.slice(0, cut), pending.slice(cut)];
}

// Host copies of the tensors TP sums read, kept across steps (no fresh pages per read); a comm
// that moves whole buffers (the worker bridge) may take one, and then another is made.
const hostCopies = new WeakMap<GpuTensor, Float32Array>();
function hostCopyOf(t: GpuTensor): Float32Array {
  let h = hostCopies.get(t);
  if (!h || h.buffer.byteLength === 0) hostCopies.set(t, (h = new Float32Array(t.length)));
  return h;
}

export async function runProgram(
  ctx: GpuContext,
  program: Program,
  tp: TpCollectives | null,
  hooks: RunHooks = {},
): Promise<void> {
  let enc: GPUCommandEncoder | null = null;
  let pending: Dispatch[] = [];
  const encodePending = () => {
    if (pending.length === 0) return;
    enc ??= ctx.device.createCommandEncoder();
    ctx.encode(enc, pending);
    pending = [];
  };
  let submits = 0;
  const submit = () => {
    encodePending();
    if (enc) {
      ctx.device.queue.submit([enc.finish()]);
      submits++;
    }
    enc = null;
  };
  const needTp = (what: string): TpCollectives => {
    if (!tp) throw new Error(`runProgram: ${what} needs the tensor-parallel group, and this rank has none`);
    return tp;
  };
  let marks = 0;
  for (const step of program) {
    switch (step.kind) {
      case 'gpu':
        pending.push(...step.dispatches);
        if (pending.length >= (submits === 0 ? FIRST_SUBMIT : SUBMIT_EVERY)) submit();
        break;
      case 'clear':
        encodePending();
        enc ??= ctx.device.createCommandEncoder();
        ctx.clear(enc, step.tensor.buffer, step.tensor.offset, step.tensor.length * 4, step.tensor.name);
        break;
      case 'mark':
        if (hooks.onMark) {
          submit();
          hooks.onMark(step.finished, marks);
        }
        marks++;
        break;
      case 'fetch':
        if (!hooks.fetch) throw new Error(`runProgram: the pass fetches window unit ${step.unit} and nothing fills it`);
        submit();
        await hooks.fetch(step.unit);
        break;
      case 'tpSum': {
        const g = needTp(step.what);
        if (g.device) {
          submit(); // the sum is queued after this rank's work (and every other member's)
          await g.device.sum(step.tensor);
          break;
        }
        const [first, independent] = splitAtLastUse(pending, step.tensor);
        pending = first;
        submit();
        const host = hostCopyOf(step.tensor);
        const reading = ctx.readInto(step.tensor, host);
        pending = independent;
        submit(); // runs while the sum is on the host
        await reading;
        ctx.write(step.tensor, await g.sum(host, step.what));
        break;
      }
      case 'seqGather': {
        const g = needTp(step.what);
        if (g.device) {
          submit();
          await g.device.seqGather(step.pairs, step.B, step.T);
          break;
        }
        const locals = step.pairs.map((p) => p.local);
        const [first, independent] = splitAtLastUse(pending, ...locals, ...step.pairs.map((p) => p.full));
        pending = first;
        submit();
        const reading = g.wire
          ? readHalf(ctx, step, locals, g.wire)
          : ctx.readMany(locals).then((bufs) => bufs.map((b) => new Float32Array(b)));
        pending = independent;
        submit(); // runs while the pieces travel
        const hosts = await reading;
        const piece = new Float32Array(hosts.reduce((n, h) => n + h.length, 0));
        let at = 0;
        for (const h of hosts) {
          piece.set(h, at);
          at += h.length;
        }
        // (tp, piece); `piece` itself may be gone: a comm across threads moves the buffer it is given
        const all = await g.gather(piece, step.what, g.wire !== undefined);
        const stride = all.length / g.size;
        at = 0;
        step.pairs.forEach((p, i) => {
          const n = hosts[i].length;
          const parts = Array.from({ length: g.size }, (_, r) => all.subarray(r * stride + at, r * stride + at + n));
          ctx.write(p.full, assembleSequence(parts, step.B, step.T));
          at += n;
        });
        break;
      }
      case 'seqReduceScatter': {
        const g = needTp(step.what);
        if (g.device) {
          submit();
          await g.device.seqReduceScatter(step.full, step.local, step.B, step.T);
          break;
        }
        const [first, independent] = splitAtLastUse(pending, step.full, step.local);
        pending = first;
        submit();
        const host = g.wire ? null : hostCopyOf(step.full);
        const reading = host
          ? ctx.readInto(step.full, host).then(() => host)
          : readHalf(ctx, step, [step.full], g.wire!).then((h) => h[0]);
        pending = independent;
        submit(); // runs while the partial sums travel
        const partial = await reading;
        ctx.write(step.local, await g.reduceScatter(rankMajor(partial, step.B, step.T, g.size), step.what));
        break;
      }
      case 'vocabLoss': {
        const g = needTp('vocab-parallel cross-entropy');
        submit();
        const known = step.targetsOnHost?.current;
        const [[lse, tl], targets] = await Promise.all([
          ctx.readMany([step.lse, step.targetLogit]),
          known && known.length === step.targets.length ? known : ctx.readInt(step.targets),
        ]);
        // both collectives are issued at once (every TP rank in the same order)
        const [parts, targetLogit] = await Promise.all([
          g.gather(new Float32Array(lse), 'loss.lse'),
          g.sum(new Float32Array(tl), 'loss.targetLogit'),
        ]);
        const out = combineVocabParallel(parts, g.size, targetLogit, targets);
        ctx.write(step.lse, out.lse);
        ctx.write(step.losses, out.losses);
        break;
      }
      default: {
        const never: never = step;
        throw new Error(`runProgram: unknown step ${(never as { kind: string }).kind}`);
      }
    }
  }
  submit();
}
