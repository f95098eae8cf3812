// What mixed precision (fp16 / bf16) keeps in 16 bits in GPU memory for one layout, as data: the
// trainer allocates by it and `plan` counts by it. Pure.
//   weights      the parameters' working copy: the f32 master vector (what AdamW updates,
//                checkpoints hold) is cast to a packed 16-bit copy after each update; each pass
//                unpacks the layer it runs (and the embedding / final norm / head) from it into
//                an f32 window of one layer (model/param-window.ts). Not with ZeRO-3, which
//                keeps no working copy at rest: its f32 shards are the master, and each layer is
//                gathered over the replicas into the f32 window, in 16 bits when this is asked
//                (so the kernels read the master rounded, as from a 16-bit working copy).
//   activations  the tensors a transformer layer keeps from its forward for its backward: packed
//                after the layer's forward, unpacked into one f32 layer shared by every layer and
//                micro-batch before its backward; with activation recompute (checkpoint_activations),
//                which keeps only each chunk's input, those inputs (but the stage's own input).

export interface HalfStorage {
  weights: boolean;
  activations: boolean;
}

export const NO_HALF_STORAGE: HalfStorage = { weights: false, activations: false };

export interface HalfStorageLayout {
  /** the ZeRO stage that runs (0 with one replica) */
  zeroStage: number;
}

/** What is stored in 16 bits, from what the config asks (half_storage, with fp16/bf16 on) and the layout. */
export function halfStorageRun(asked: HalfStorage, layout: HalfStorageLayout): HalfStorage {
  return { weights: asked.weights && layout.zeroStage < 3, activations: asked.activations };
}

export interface HalfStorageLimit {
  /** the half_storage part that stays f32 */
  part: keyof HalfStorage;
  /** the config key whose setting keeps it f32 */
  key: 'zero_optimization.stage';
  why: string;
  /** what asking for the part still does in that layout (default: nothing) */
  effect?: string;
}

/** The parts asked for that this layout keeps in f32, each with the config key at fault. */
export function halfStorageLimits(asked: HalfStorage, layout: HalfStorageLayout): HalfStorageLimit[] {
  const out: HalfStorageLimit[] = [];
  if (asked.weights && layout.zeroStage >= 3)
    out.push({
      part: 'weights',
      key: 'zero_optimization.stage',
      why:
        "ZeRO-3 keeps the parameters' working copy in f32 (no 16-bit copy at rest: its f32 shards are " +
        'the master, and each layer is gathered into an f32 window)',
      effect: 'the layers are gathered in 16 bits (the kernels read the 16-bit values)',
    });
  return out;
}
