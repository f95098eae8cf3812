// Token and learned position embeddings: forward, and deterministic (atomic-free)
// backward for both tables.
import fwdSrc from '../../../shaders/embedding_fwd.wgsl?raw';
import bwdSrc from '../../../shaders/embedding_bwd.wgsl?raw';
import posBwdSrc from '../../../shaders/position_embedding_bwd.wgsl?raw';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectLength, expectNoAlias, expectPositiveInts } from './validate';
import { linearWorkgroup, rowWorkgroup } from './workgroup';

function expectRowsOf(kernel: string, arg: string, t: GpuTensor, C: number, minRows: number): void {
  if (t.length % C !== 0 || t.length < minRows * C) {
    throw new Error(
      `${kernel}: ${arg} has ${t.length} elements, expected (rows, C=${C}) with at least ${minRows} rows`,
    );
  }
}

/** Vocabulary rows [start, start + count) of a vocab-parallel table; the whole table by default. */
export interface VocabRows {
  start: number;
  count: number;
}

/** out[bt] = wte[tokens[bt] − start] (0 when the token is outside `rows`) + wpe[bt mod T].
 *  tokens: i32 (B*T); wte: (rows.count, C); wpe: (maxPos, C) | null; out: (B*T, C) */
export function embeddingForward(
  ctx: GpuContext,
  tokens: GpuTensor,
  wte: GpuTensor,
  wpe: GpuTensor | null,
  out: GpuTensor,
  T: number,
  C: number,
  rows?: VocabRows,
): Dispatch {
  const k = 'embeddingForward';
  expectPositiveInts(k, { T, C });
  const BT = tokens.length;
  if (BT % T !== 0) throw new Error(`${k}: tokens has ${BT} elements, not a multiple of T=${T}`);
  expectLength(k, 'out', out, BT * C);
  expectRowsOf(k, 'wte', wte, C, 1);
  if (wpe) expectRowsOf(k, 'wpe', wpe, C, T);
  const { start, count } = rows ?? { start: 0, count: wte.length / C };
  if (!Number.isInteger(start) || start < 0 || !Number.isInteger(count) || count < 1 || count * C > wte.length) {
    throw new Error(`${k}: vocabulary rows [${start}, ${start + count}) do not fit wte of ${wte.length / C} rows`);
  }
  expectNoAlias(k, { out }, wpe ? { tokens, wte, wpe } : { tokens, wte });
  const WG = linearWorkgroup(ctx);
  const p = ctx.pipeline('embedding_fwd', fwdSrc, { WG, HAS_WPE: wpe ? 1 : 0 });
  return ctx.bind(
    k,
    p,
    [
      tokens,
      wte,
      wpe ?? wte,
      out,
      uniforms([
        ['u32', BT * C],
        ['u32', T],
        ['u32', C],
        ['u32', start],
        ['u32', count],
      ]),
    ],
    grid1d(Math.ceil((BT * C) / WG)),
  );
}

/** Length of the i32 buffer bucketTokens fills for BT tokens. */
export function bucketCapacity(BT: number): number {
  return 1 + 4 * BT;
}

/**
 * Groups token positions by token id for the deterministic embedding backward:
 * [U, (token, start, count) × BT slots (first U used, ascending token), positions × BT
 * (ascending within each bucket)], padded to bucketCapacity(BT). With `rows` (a vocab-parallel
 * shard) only tokens inside the rows are kept, numbered from rows.start.
 */
export function bucketTokens(tokens: Int32Array, rows?: VocabRows): Int32Array {
  const BT = tokens.length;
  const out = new Int32Array(bucketCapacity(BT));
  const lo = rows?.start ?? 0,
    hi = rows ? rows.start + rows.count : Infinity;
  // one f64 key per kept position, token·BT + position (exact below 2^53): a native numeric sort
  // orders by token, then position (a comparator sort took ~0.4 ms of each step's host time at 2,048)
  const keys = new Float64Array(BT);
  let n = 0;
  for (let i = 0; i < BT; i++) {
    const tok = tokens[i];
    if (tok < 0) throw new Error(`bucketTokens: token ${tok} at position ${i} is negative`);
    if (tok >= lo && tok < hi) keys[n++] = tok * BT + i;
  }
  const order = keys.subarray(0, n).sort();
  const positions = 1 + 3 * BT;
  let U = 0;
  let last = -1;
  for (let k = 0; k < n; k++) {
    const tok = Math.floor(order[k] / BT);
    if (tok !== last) {
      out[1 + 3 * U] = tok - lo;
      out[2 + 3 * U] = k;
      U++;
      last = tok;
    }
    out[3 + 3 * (U - 1)]++;
    out[positions + k] = order[k] - tok * BT;
  }
  out[0] = U;
  return out;
}

/** dwte[tok] += Σ dout[positions of tok]. dout: (BT, C); buckets: i32 (bucketCapacity(BT)); dwte: (V, C) */
export function embeddingBackward(
  ctx: GpuContext,
  dout: GpuTensor,
  buckets: GpuTensor,
  dwte: GpuTensor,
  C: number,
  BT: number,
): Dispatch {
  const k = 'embeddingBackward';
  expectPositiveInts(k, { C, BT });
  expectLength(k, 'dout', dout, BT * C);
  expectLength(k, 'buckets', buckets, bucketCapacity(BT));
  expectRowsOf(k, 'dwte', dwte, C, 1);
  expectNoAlias(k, { dwte }, { dout, buckets });
  const WG = rowWorkgroup(ctx, C);
  const colBlocks = Math.ceil(C / WG);
  const p = ctx.pipeline('embedding_bwd', bwdSrc, { WG });
  return ctx.bind(
    k,
    p,
    [
      dout,
      buckets,
      dwte,
      uniforms([
        ['u32', BT],
        ['u32', C],
        ['u32', colBlocks],
      ]),
    ],
    grid1d(BT * colBlocks),
  );
}

/** dwpe[t] += Σ_b dout[b·T + t]. dout: (B*T, C); dwpe: (maxPos, C), maxPos ≥ T */
export function positionEmbeddingBackward(
  ctx: GpuContext,
  dout: GpuTensor,
  dwpe: GpuTensor,
  B: number,
  T: number,
  C: number,
): Dispatch {
  const k = 'positionEmbeddingBackward';
  expectPositiveInts(k, { B, T, C });
  expectLength(k, 'dout', dout, B * T * C);
  expectRowsOf(k, 'dwpe', dwpe, C, T);
  expectNoAlias(k, { dwpe }, { dout });
  const WG = linearWorkgroup(ctx);
  const p = ctx.pipeline('position_embedding_bwd', posBwdSrc, { WG });
  return ctx.bind(
    k,
    p,
    [
      dout,
      dwpe,
      uniforms([
        ['u32', B],
        ['u32', T],
        ['u32', C],
      ]),
    ],
    grid1d(Math.ceil((T * C) / WG)),
  );
}
