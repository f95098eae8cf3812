// Full tensors by tabtron name ⇄ the single-rank flat parameter vector (layoutParams order,
// alignment padding zero), and a checkpoint's full tensors (any layout, merged).

import { CheckpointReader, type ReadFile } from '../checkpoint/assemble';
import type { Manifest } from '../checkpoint/manifest';
import { fullModel, layoutParams, stageParamDefs, type ParamLayout } from '../model/params';
import type { ModelSpec } from '../model/spec';
import { HfError } from './errors';
import type { Tensors } from './weights';

export const singleRankLayout = (s: ModelSpec): ParamLayout => layoutParams(stageParamDefs(s, fullModel(s), 1));

export function tensorsToFlat(s: ModelSpec, tensors: ReadonlyMap<string, { data: Float32Array }>): Float32Array {
  const layout = singleRankLayout(s);
  const flat = new Float32Array(layout.total);
  for (const slot of layout.slots) {
    const t = tensors.get(slot.name);
    if (!t) throw new HfError(`no tensor ${slot.name}`);
    if (t.data.length !== slot.length)
      throw new HfError(
        `tensor ${slot.name} has ${t.data.length} values, the model's [${slot.fullShape}] needs ${slot.length}`,
      );
    flat.set(t.data, slot.offset);
  }
  return flat;
}

export function flatToTensors(s: ModelSpec, flat: Float32Array): Tensors {
  const out: Tensors = new Map();
  for (const slot of singleRankLayout(s).slots)
    out.set(slot.name, { shape: slot.fullShape, data: flat.slice(slot.offset, slot.offset + slot.length) });
  return out;
}

/** Every parameter of a checkpoint, whole (TP pieces joined, stages together), without moments. */
export async function checkpointTensors(manifest: Manifest, readFile: ReadFile): Promise<Tensors> {
  const full = await new CheckpointReader(manifest, readFile).tensors(undefined, { moments: false });
  const out: Tensors = new Map();
  for (const [name, t] of full) out.set(name, { shape: t.shape, data: t.param });
  return out;
}
