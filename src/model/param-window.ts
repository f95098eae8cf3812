// ZeRO-2/3's working buffers, as data. With ZeRO-2 a rank keeps only its 1/DP shard of the
// gradients; with ZeRO-3 also of the parameters. The backward (and with ZeRO-3 the forward)
// still needs whole tensors while it runs, so they live in a "window": the stage's tensors
// outside transformer layers (embedding, final norm, head: `rest`) each in their own place,
// and every transformer layer's tensors in ONE shared region, which holds one layer at a time
// (gathered just before that layer runs; for gradients read out and reduce-scattered right
// after it, before the next layer's backward clears it).
// The flat layout (params.ts) groups tensors by decay and TP split, so a layer's tensors are a
// few contiguous runs of the flat vector; a run is what one collective moves.
import type { ParamLayout } from './params';

/** The unit a run belongs to: −1 for the rest, else the (global) transformer layer index. */
export type WindowUnit = number;
export const REST: WindowUnit = -1;

export interface WindowRun {
  /** flat elements [start, end), padding after the last tensor included */
  start: number;
  end: number;
  unit: WindowUnit;
  /** element offset of `start` in the window */
  at: number;
}

export interface ParamWindow {
  runs: WindowRun[];
  /** elements of the rest: [0, restLength) of the window */
  restLength: number;
  /** elements of the shared layer region, [restLength, restLength + layerLength); 0 without layers */
  layerLength: number;
  /** restLength + layerLength */
  length: number;
}

export const unitOf = (name: string): WindowUnit => (name.startsWith('layers.') ? Number(name.split('.')[1]) : REST);

/** Cuts the layout into runs and places them in the window; every layer must have the same runs. */
export function paramWindow(layout: ParamLayout): ParamWindow {
  const slots = [...layout.slots].sort((a, b) => a.offset - b.offset);
  const cut: Omit<WindowRun, 'at'>[] = [];
  slots.forEach((s, i) => {
    const end = i + 1 < slots.length ? slots[i + 1].offset : layout.total;
    const unit = unitOf(s.name);
    const last = cut[cut.length - 1];
    if (last && last.unit === unit && last.end === s.offset) last.end = end;
    else cut.push({ start: s.offset, end, unit });
  });
  let restLength = 0;
  const runs: WindowRun[] = [];
  for (const r of cut) {
    if (r.unit !== REST) continue;
    runs.push({ ...r, at: restLength });
    restLength += r.end - r.start;
  }
  const perLayer = new Map<number, number[]>();
  for (const r of cut) if (r.unit !== REST) perLayer.set(r.unit, [...(perLayer.get(r.unit) ?? []), r.end - r.start]);
  const shapes = [...perLayer.values()].map((lengths) => lengths.join(','));
  if (new Set(shapes).size > 1) throw new Error(`paramWindow: layers are laid out differently (${shapes.join(' / ')})`);
  const layerLength = perLayer.size > 0 ? [...perLayer.values()][0].reduce((a, b) => a + b, 0) : 0;
  for (const r of cut) {
    if (r.unit === REST) continue;
    const before = runs.filter((x) => x.unit === r.unit).reduce((n, x) => n + x.end - x.start, 0);
    runs.push({ ...r, at: restLength + before });
  }
  runs.sort((a, b) => a.start - b.start);
  return { runs, restLength, layerLength, length: restLength + layerLength };
}

/** The runs of one unit, in flat order. */
export function runsOf(w: ParamWindow, unit: WindowUnit): WindowRun[] {
  return w.runs.filter((r) => r.unit === unit);
}

/** Window offset of flat range [start, end), which must lie inside one run. */
export function windowOffset(w: ParamWindow, start: number, end: number): number {
  const run = w.runs.find((r) => start >= r.start && end <= r.end);
  if (!run) throw new Error(`paramWindow: flat range [${start}, ${end}) is not inside one run`);
  return run.at + (start - run.start);
}
