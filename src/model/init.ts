// Deterministic initialisation on the CPU from `seed`: each parameter draws from its own
// stream keyed by (seed, name), so the values do not depend on the layout or on which rank
// builds them (a TP rank can generate the full tensor and keep its shard).

import { Rng } from '../util/rng';
import type { ParamLayout, ParamSlot } from './params';
import { NO_TP, shardTensor, type TpPlace } from './tp-shard';

function hashName(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function initParam(slot: Pick<ParamSlot, 'name' | 'init' | 'shape'>, seed: number): Float32Array {
  const n = slot.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  switch (slot.init.kind) {
    case 'zeros':
      break;
    case 'ones':
      out.fill(1);
      break;
    case 'normal': {
      const rng = new Rng(hashName(seed, slot.name));
      for (let i = 0; i < n; i++) out[i] = rng.normal() * slot.init.std;
      break;
    }
    case 'uniform': {
      const rng = new Rng(hashName(seed, slot.name));
      for (let i = 0; i < n; i++) out[i] = (2 * rng.uniform() - 1) * slot.init.bound;
      break;
    }
  }
  return out;
}

/** This rank's flat parameter vector (padding zero): every tensor drawn whole, then split. */
export function initFlat(layout: ParamLayout, seed: number, tp: TpPlace = NO_TP): Float32Array {
  const flat = new Float32Array(layout.total);
  for (const s of layout.slots)
    flat.set(shardTensor(s.tp, s.fullShape, initParam({ ...s, shape: s.fullShape }, seed), tp), s.offset);
  return flat;
}
