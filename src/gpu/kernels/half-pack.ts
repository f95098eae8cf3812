// Mixed precision's 16-bit storage: f32 tensors packed two values to a u32 as fp16 or bf16
// (round to nearest even, integer arithmetic: shaders/lib/half_bits.wgsl), and back to f32.
import packSrc from '../../../shaders/pack_half.wgsl?raw';
import unpackSrc from '../../../shaders/unpack_half.wgsl?raw';
import type { HalfFormat } from '../../train/precision';
import { type GpuContext, uniforms } from '../context';
import { type Dispatch, grid1d } from '../dispatch';
import type { GpuTensor } from '../tensor';
import { expectLength, expectNoAlias } from './validate';
import { linearWorkgroup } from './workgroup';

/** u32 words that hold n packed 16-bit values. */
export const packedWords = (n: number): number => Math.ceil(n / 2);

const FORMAT_CODE: Record<HalfFormat, number> = { fp16: 0, bf16: 1 };

/** Where in `packed` a kernel's words are: all of it (the default), or words [at, at + ceil(N/2))
 *  of a larger buffer (a tensor's place in a packed flat vector, whose offset in bytes need not
 *  meet the storage-binding alignment). */
export interface PackedPlace {
  at: number;
}

function checkPacked(k: string, packed: GpuTensor, n: number, place?: PackedPlace): number {
  if (!place) {
    expectLength(k, 'packed', packed, packedWords(n));
    return 0;
  }
  const { at } = place;
  if (!Number.isInteger(at) || at < 0 || at + packedWords(n) > packed.length)
    throw new Error(`${k}: words [${at}, ${at + packedWords(n)}) lie outside packed (${packed.length} words)`);
  return at;
}

/** packed = x as 16-bit pairs. x: f32 (N); packed: u32 (ceil(N/2)), or words from `place.at` of it */
export function packHalf(
  ctx: GpuContext,
  x: GpuTensor,
  packed: GpuTensor,
  format: HalfFormat,
  place?: PackedPlace,
): Dispatch {
  const k = 'packHalf';
  const at = checkPacked(k, packed, x.length, place);
  expectNoAlias(k, { packed }, { x });
  const WG = linearWorkgroup(ctx);
  return ctx.bind(
    `${k}.${format}`,
    ctx.pipeline('pack_half', packSrc, { WG, FORMAT: FORMAT_CODE[format] }),
    [
      x,
      packed,
      uniforms([
        ['u32', x.length],
        ['u32', at],
      ]),
    ],
    grid1d(Math.ceil(packedWords(x.length) / WG)),
  );
}

/** x = the 16-bit pairs of packed, as f32. packed: u32 (ceil(N/2)), or words from `place.at` of it; x: f32 (N) */
export function unpackHalf(
  ctx: GpuContext,
  packed: GpuTensor,
  x: GpuTensor,
  format: HalfFormat,
  place?: PackedPlace,
): Dispatch {
  const k = 'unpackHalf';
  const at = checkPacked(k, packed, x.length, place);
  expectNoAlias(k, { x }, { packed });
  const WG = linearWorkgroup(ctx);
  return ctx.bind(
    `${k}.${format}`,
    ctx.pipeline('unpack_half', unpackSrc, { WG, FORMAT: FORMAT_CODE[format] }),
    [
      packed,
      x,
      uniforms([
        ['u32', x.length],
        ['u32', at],
      ]),
    ],
    grid1d(Math.ceil(x.length / WG)),
  );
}
