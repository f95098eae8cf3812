// A rank's whole training state as bytes: the step, the (padded) flat parameters (with ZeRO-3
// the rank's shard of them) and Adam's moments for the rank's optimizer range. What a
// data-parallel replica sends a newcomer and what a tab keeps as its local snapshot; restoring
// it gives bit-identical training.
import type { Trainer } from '../trainer';

export interface RankStateBlob {
  step: number;
  params: Float32Array; // (flatLength), with ZeRO-3 (optRange length)
  m: Float32Array; // (optRange length)
  v: Float32Array; // (optRange length)
}

const MAGIC = 0x54534b52; // "RKST"
const HEADER_WORDS = 5;

/** Reads the state. The GPU copies are queued at call time: later work does not change what is read. */
export async function readRankState(t: Trainer): Promise<RankStateBlob> {
  const step = t.step;
  const [params, m, v] = await Promise.all([t.ctx.read(t.heldParams), t.ctx.read(t.m), t.ctx.read(t.v)]);
  return { step, params, m, v };
}

/** Writes a state read from a trainer with the same parameter layout and optimizer range. */
export function writeRankState(t: Trainer, s: RankStateBlob): void {
  if (s.params.length !== t.heldParams.length)
    throw new Error(`rank state: ${s.params.length} parameters, this rank holds ${t.heldParams.length}`);
  t.writeHeldParams(s.params);
  t.loadMoments(s.m, s.v);
  t.step = s.step;
}

export function encodeRankState(s: RankStateBlob): Uint8Array {
  const n = HEADER_WORDS + s.params.length + s.m.length + s.v.length;
  const out = new Uint8Array(n * 4);
  const words = new Uint32Array(out.buffer);
  words.set([MAGIC, s.step, s.params.length, s.m.length, s.v.length]);
  const f = new Float32Array(out.buffer);
  f.set(s.params, HEADER_WORDS);
  f.set(s.m, HEADER_WORDS + s.params.length);
  f.set(s.v, HEADER_WORDS + s.params.length + s.m.length);
  return out;
}

export function decodeRankState(bytes: Uint8Array, from: string): RankStateBlob {
  if (bytes.byteLength < HEADER_WORDS * 4 || bytes.byteLength % 4 !== 0)
    throw new Error(`rank state from ${from}: ${bytes.byteLength} bytes is not a rank state`);
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  const [magic, step, np, nm, nv] = words;
  if (magic !== MAGIC) throw new Error(`rank state from ${from}: bad magic ${magic.toString(16)}`);
  if (HEADER_WORDS + np + nm + nv !== words.length)
    throw new Error(`rank state from ${from}: header says ${np}+${nm}+${nv} values, body holds ${words.length - 5}`);
  const f = new Float32Array(aligned.buffer, aligned.byteOffset, words.length);
  let at = HEADER_WORDS;
  const take = (k: number) => f.slice(at, (at += k));
  return { step, params: take(np), m: take(nm), v: take(nv) };
}
