// A rank's whole training state as bytes: the step, the (padded) flat parameters (with ZeRO-3
// the rank's shard of them) and Adam's moments for the rank's optimizer range. What a
// data-parallel replica sends a newcomer and what a tab keeps as its local snapshot; restoring
// it gives bit-identical training.
// Mixed-precision runs add their host state (skipped steps, loss scaler) as a JSON tail: a
// second magic, one more header word with the tail's bytes; f32 states are encoded as before.
import type { Trainer, TrainerHostState } from '../trainer';

export interface RankStateBlob {
  step: number;
  params: Float32Array; // (flatLength), with ZeRO-3 (optRange length)
  m: Float32Array; // (optRange length)
  v: Float32Array; // (optRange length)
  /** mixed precision: skipped steps and the loss scaler */
  host?: Omit<TrainerHostState, 'step'>;
}

const MAGIC = 0x54534b52; // "RKST"
const MAGIC_MIXED = 0x32534b52; // "RKS2"
const HEADER_WORDS = 5;

/** Reads the state. The GPU copies are queued at call time: later work does not change what is read. */
export async function readRankState(t: Trainer): Promise<RankStateBlob> {
  const step = t.step;
  const { step: _, ...host } = t.hostState();
  const [params, m, v] = await Promise.all([t.ctx.read(t.heldParams), t.ctx.read(t.m), t.ctx.read(t.v)]);
  return { step, params, m, v, ...(t.mixed ? { host } : {}) };
}

/** Writes a state read from a trainer with the same parameter layout and optimizer range. */
export function writeRankState(t: Trainer, s: RankStateBlob): void {
  if (s.params.length !== t.heldParams.length)
    throw new Error(`rank state: ${s.params.length} parameters, this rank holds ${t.heldParams.length}`);
  t.writeHeldParams(s.params);
  t.loadMoments(s.m, s.v);
  const fresh = t.hostState();
  t.loadHostState({ step: s.step, skippedSteps: s.host?.skippedSteps ?? 0, scaler: s.host?.scaler ?? fresh.scaler });
}

export function encodeRankState(s: RankStateBlob): Uint8Array {
  const tail = s.host ? new TextEncoder().encode(JSON.stringify(s.host)) : null;
  const head = tail ? HEADER_WORDS + 1 : HEADER_WORDS;
  const body = head + s.params.length + s.m.length + s.v.length;
  const out = new Uint8Array(body * 4 + (tail ? Math.ceil(tail.length / 4) * 4 : 0));
  const words = new Uint32Array(out.buffer);
  words.set([tail ? MAGIC_MIXED : MAGIC, s.step, s.params.length, s.m.length, s.v.length]);
  if (tail) words[HEADER_WORDS] = tail.length;
  const f = new Float32Array(out.buffer);
  f.set(s.params, head);
  f.set(s.m, head + s.params.length);
  f.set(s.v, head + s.params.length + s.m.length);
  if (tail) out.set(tail, body * 4);
  return out;
}

export function decodeRankState(bytes: Uint8Array, from: string): RankStateBlob {
  if (bytes.byteLength < HEADER_WORDS * 4 || bytes.byteLength % 4 !== 0)
    throw new Error(`rank state from ${from}: ${bytes.byteLength} bytes is not a rank state`);
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
  const [magic, step, np, nm, nv] = words;
  if (magic !== MAGIC && magic !== MAGIC_MIXED)
    throw new Error(`rank state from ${from}: bad magic ${magic.toString(16)}`);
  const head = magic === MAGIC_MIXED ? HEADER_WORDS + 1 : HEADER_WORDS;
  const tailBytes = magic === MAGIC_MIXED ? words[HEADER_WORDS] : 0;
  if (head + np + nm + nv + Math.ceil(tailBytes / 4) !== words.length)
    throw new Error(`rank state from ${from}: header says ${np}+${nm}+${nv} values, body holds ${words.length - head}`);
  const f = new Float32Array(aligned.buffer, aligned.byteOffset, words.length);
  let at = head;
  const take = (k: number) => f.slice(at, (at += k));
  const blob: RankStateBlob = { step, params: take(np), m: take(nm), v: take(nv) };
  if (tailBytes > 0) {
    const text = new TextDecoder().decode(new Uint8Array(aligned.buffer, aligned.byteOffset + at * 4, tailBytes));
    blob.host = JSON.parse(text);
  }
  return blob;
}
