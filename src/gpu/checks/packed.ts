// Test helper: tensors as views at non-zero aligned offsets inside one buffer (as the
// model's flat parameter/gradient buffers are), with sentinel values in the gaps so a
// check can prove a kernel respects offsets and writes nothing outside its views.
import type { GpuContext } from '../context';
import type { GpuTensor } from '../tensor';
import type { CheckResult } from './harness';

const SENTINEL = 12345.5;

export interface Packed<K extends string> {
  views: Record<K, GpuTensor>;
  whole: GpuTensor;
}

export function packed<K extends string>(
  ctx: GpuContext,
  shapes: Record<K, readonly number[]>,
  name = 'packed',
): Packed<K> {
  const align = ctx.alignment / 4;
  let cursor = align; // the first view does not start at 0
  const placed: Array<[K, number, readonly number[], number]> = [];
  for (const key of Object.keys(shapes) as K[]) {
    const shape = shapes[key];
    const length = shape.reduce((a, b) => a * b, 1);
    placed.push([key, cursor, shape, length]);
    cursor = Math.ceil((cursor + length + 1) / align) * align; // ≥ 1 sentinel after each view
  }
  const total = cursor + align;
  const whole: GpuTensor = {
    buffer: ctx.createBuffer(total * 4, name),
    offset: 0,
    length: total,
    shape: [total],
    name,
  };
  ctx.write(whole, new Float32Array(total).fill(SENTINEL));
  const views = {} as Record<K, GpuTensor>;
  for (const [key, start, shape, length] of placed)
    views[key] = { buffer: whole.buffer, offset: start * 4, length, shape, name: `${name}.${key}` };
  return { views, whole };
}

/** A CheckResult that fails if any element outside the views changed. */
export async function guardsIntact<K extends string>(
  ctx: GpuContext,
  p: Packed<K>,
  name: string,
): Promise<CheckResult> {
  const all = await ctx.read(p.whole);
  const inside = new Uint8Array(all.length);
  for (const v of Object.values(p.views) as GpuTensor[]) inside.fill(1, v.offset / 4, v.offset / 4 + v.length);
  let bad = 0,
    first = -1;
  for (let i = 0; i < all.length; i++) {
    if (!inside[i] && all[i] !== SENTINEL) {
      bad++;
      if (first < 0) first = i;
    }
  }
  return {
    name,
    relErr: bad,
    tol: 0,
    detail: bad ? `${bad} elements outside the views changed, first at ${first}` : undefined,
  };
}
