// Every activation buffer one rank's GPT allocates, in one place: an activation set per slot
// (micro-batch in flight), and what the slots share (recompute layers, the attention backward's
// T × T scratch, sequence parallelism's gathered buffers, 16-bit activations' work layer or chunk
// inputs). The Gpt runs on these; a context that
// counts instead of allocating gives the same bytes without a GPU (activation-bytes.ts).
import type { GpuContext } from '../gpu/context';
import { bucketCapacity } from '../gpu/kernels/embedding';
import {
  allocActs,
  allocAttentionScratch,
  allocRecomputeScratch,
  allocSeqScratch,
  fusionFor,
  type Acts,
  type AttentionBackward,
  type LocalDims,
} from './activations';
import { allocHalfChunkInputs, allocHalfWork } from './half-activations';
import type { SeqPlace } from './sequence-parallel';
import type { ModelSpec } from './spec';

export interface ActivationSetOptions {
  slots: number;
  /** transformer layers of the stage */
  numLayers: number;
  /** activation recompute in chunks of this many layers (0: off) */
  recomputeLayers: number;
  attentionBackward?: AttentionBackward;
  /** sequence parallelism: this rank's positions */
  seq: SeqPlace | null;
  /** 16-bit activations (half-activations.ts): a work layer shared by the slots, packed copies per
   *  layer; with recompute, packed chunk inputs */
  half?: boolean;
}

/** One Acts per slot (sharing the scratch). */
export function allocActivationSet(
  ctx: GpuContext,
  spec: ModelSpec,
  dims: LocalDims,
  B: number,
  o: ActivationSetOptions,
): Acts[] {
  const k = o.recomputeLayers;
  if (k < 0 || !Number.isInteger(k)) throw new Error(`checkpoint_num_layers must be a positive integer, got ${k}`);
  const rows = o.seq?.rows ?? B * spec.T;
  const scratch =
    k > 0 && o.numLayers > 0 ? allocRecomputeScratch(ctx, spec, dims, B, Math.min(k, o.numLayers), rows) : null;
  const seqScratch = o.seq ? allocSeqScratch(ctx, spec, B) : null;
  const attentionScratch = o.numLayers > 0 ? allocAttentionScratch(ctx, spec, dims, B, o.attentionBackward) : null;
  const fused = fusionFor(ctx, spec, dims, B, o.attentionBackward);
  const halfWork =
    o.half && !scratch && o.numLayers > 0 ? allocHalfWork(ctx, spec, dims, B, o.numLayers, fused, rows) : undefined;
  const halfInputs =
    o.half && scratch ? allocHalfChunkInputs(ctx, spec, Math.ceil(o.numLayers / scratch.length), rows) : undefined;
  return Array.from({ length: o.slots }, (_, i) =>
    allocActs(ctx, spec, dims, B, bucketCapacity(B * spec.T), o.numLayers, {
      tag: `s${i}.`,
      recompute: scratch ? { chunk: scratch.length, scratch, half: halfInputs } : undefined,
      attentionBackward: o.attentionBackward,
      attentionScratch,
      seq: seqScratch ? { rows, scratch: seqScratch } : undefined,
      halfWork,
    }),
  );
}
