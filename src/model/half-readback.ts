// Mixed precision's sequence-parallel reads: the tensors a TP all-gather or reduce-scatter sends
// are packed to 16-bit pairs on the GPU (gpu/kernels/half-pack.ts, round to nearest even) and read
// back at half the bytes. The host gets their f32 values, exactly the 16-bit ones, which the
// collective's 16-bit wire (comm/collectives.ts `wire`) then carries without further rounding.
import { decodeHalf } from '../comm/compress/half-wire';
import type { GpuContext } from '../gpu/context';
import type { Dispatch } from '../gpu/dispatch';
import { packedWords, packHalf } from '../gpu/kernels/half-pack';
import type { GpuTensor } from '../gpu/tensor';
import type { HalfFormat } from '../train/precision';

interface Packer {
  /** u32: every tensor's words, one after another */
  scratch: GpuTensor;
  packs: Dispatch[];
  /** each tensor's first word in scratch */
  at: number[];
}

// one packer per recorded step (its tensors are the same every run)
const packers = new WeakMap<object, Packer>();

function packerOf(ctx: GpuContext, key: object, ts: readonly GpuTensor[], format: HalfFormat): Packer {
  let p = packers.get(key);
  if (p) return p;
  const at: number[] = [];
  let words = 0;
  for (const t of ts) {
    at.push(words);
    words += packedWords(t.length);
  }
  const scratch = ctx.tensor([words], 'seqParallel.halfRead');
  const packs = ts.map((t, i) => packHalf(ctx, t, scratch, format, { at: at[i] }));
  packers.set(key, (p = { scratch, packs, at }));
  return p;
}

/** Packs `ts` on the GPU (queued now, after what was submitted before) and reads them back:
 *  each as f32 holding its 16-bit values. `key`: the program step (what the packer is kept for). */
export function readHalf(
  ctx: GpuContext,
  key: object,
  ts: readonly GpuTensor[],
  format: HalfFormat,
): Promise<Float32Array[]> {
  const p = packerOf(ctx, key, ts, format);
  ctx.run(p.packs);
  return ctx
    .readRaw(p.scratch)
    .then((raw) => ts.map((t, i) => decodeHalf(format, new Uint8Array(raw, p.at[i] * 4, 2 * t.length), t.length)));
}
