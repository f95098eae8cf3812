// packHalf / unpackHalf against the CPU reference, bit for bit, on random f32 bit patterns (every
// class: subnormals, NaNs, infinities) and on the cases rounding gets wrong first: exact ties
// to even and odd, the largest half and what overflows it, fp16 subnormal boundaries; and both
// at a word offset inside a larger packed buffer (a tensor of the packed parameter copy), where
// the words around it must stay as they were. Also the scaleByTensor / unscaleAndCheck pair of
// loss scaling.
import { packedWords, packHalf, unpackHalf } from '../kernels/half-pack';
import { scaleByTensor, unscaleAndCheck } from '../kernels/loss-scale';
import { packHalfRef, unpackHalfRef } from '../../reference/half';
import type { HalfFormat } from '../../train/precision';
import { Rng, randn } from '../../util/rng';
import type { GpuContext } from '../context';
import { noGpuErrors } from './gpu-errors';
import { compare, type CheckResult, type KernelCheck } from './harness';

function cases(seed: number): Uint32Array {
  const rng = new Rng(seed);
  const special = [
    0x00000000,
    0x80000000,
    0x7f800000,
    0xff800000,
    0x7fc00000,
    0xffc00001,
    0x7f800001,
    0x00000001,
    0x807fffff,
    0x477fe000,
    0x477fefff,
    0x477ff000,
    0x477ff001,
    0xc77ff000,
    0x47800000, // 65504 and the overflow edge
    0x38800000,
    0x387fffff,
    0x33800000,
    0x33000000,
    0x33000001,
    0x32ffffff,
    0x33c00000, // fp16 subnormal edges
    0x3f801000,
    0x3f803000,
    0x3f800fff,
    0x3f801001, // fp16 ties: even, odd, below, above
    0x3f808000,
    0x3f818000,
    0x3f807fff,
    0x3f808001,
    0x7f7f8000,
    0x7f7fffff, // bf16 ties, the f32 max
  ];
  const n = 20_001; // odd: the last word has an empty high half
  const out = new Uint32Array(n);
  out.set(special);
  for (let i = special.length; i < n; i++) out[i] = Math.floor(rng.uniform() * 2 ** 32) >>> 0;
  return out;
}

async function roundTrip(ctx: GpuContext, format: HalfFormat): Promise<CheckResult[]> {
  const tag = `halfPack.${format}`;
  const bits = cases(format === 'fp16' ? 5 : 6);
  const x = ctx.tensorFrom(bits),
    packed = ctx.tensor([packedWords(bits.length)]),
    back = ctx.tensor([bits.length]);
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([packHalf(ctx, x, packed, format), unpackHalf(ctx, packed, back, format)]),
  );
  const wantPacked = packHalfRef(bits, format);
  const gotPacked = new Uint32Array(await ctx.readRaw(packed));
  const gotBack = new Uint32Array(await ctx.readRaw(back));
  return [
    errors,
    compare(`${tag}.pack`, gotPacked, wantPacked, 0),
    compare(`${tag}.unpack`, gotBack, unpackHalfRef(wantPacked, bits.length, format), 0),
  ];
}

/** A slice of the cases packed into words [at, at + ceil(n/2)) of a buffer holding other words,
 *  and unpacked from there: the words outside are untouched, the slice matches the reference. */
async function atOffset(ctx: GpuContext, format: HalfFormat): Promise<CheckResult[]> {
  const tag = `halfPack.${format}.at`;
  const bits = cases(format === 'fp16' ? 7 : 8).subarray(0, 999);
  const at = 37,
    words = 600;
  const fill = Uint32Array.from({ length: words }, (_, i) => (0x9e3779b9 * (i + 1)) >>> 0);
  const x = ctx.tensorFrom(bits),
    packed = ctx.tensorFrom(fill),
    back = ctx.tensor([bits.length]);
  const errors = await noGpuErrors(ctx, `${tag}.gpuErrors`, () =>
    ctx.run([packHalf(ctx, x, packed, format, { at }), unpackHalf(ctx, packed, back, format, { at })]),
  );
  const want = fill.slice();
  const ref = packHalfRef(bits, format);
  want.set(ref, at);
  return [
    errors,
    compare(`${tag}.pack`, new Uint32Array(await ctx.readRaw(packed)), want, 0),
    compare(`${tag}.unpack`, new Uint32Array(await ctx.readRaw(back)), unpackHalfRef(ref, bits.length, format), 0),
  ];
}

async function lossScaling(ctx: GpuContext): Promise<CheckResult[]> {
  const n = 3 * 256 + 5;
  const a = randn(n, 21);
  const factors = ctx.tensorFrom(new Float32Array([1024, 1 / 1024]));
  const x = ctx.tensorFrom(a),
    g = ctx.tensorFrom(a),
    flag = ctx.tensorFrom(new Uint32Array([0]));
  const bad = a.slice();
  bad[700] = Number.POSITIVE_INFINITY;
  const gBad = ctx.tensorFrom(bad),
    flagBad = ctx.tensorFrom(new Uint32Array([0]));
  const errors = await noGpuErrors(ctx, 'lossScale.gpuErrors', () =>
    ctx.run([
      scaleByTensor(ctx, x, factors, 0),
      unscaleAndCheck(ctx, g, factors, 1, flag),
      unscaleAndCheck(ctx, gBad, factors, 1, flagBad),
    ]),
  );
  const flags = [...new Uint32Array(await ctx.readRaw(flag)), ...new Uint32Array(await ctx.readRaw(flagBad))];
  return [
    errors,
    compare(
      'lossScale.scaleByTensor',
      await ctx.read(x),
      a.map((v) => v * 1024),
      0,
    ),
    compare(
      'lossScale.unscale',
      await ctx.read(g),
      a.map((v) => v / 1024),
      0,
    ),
    compare('lossScale.overflowFlag', flags, [0, 1], 0),
  ];
}

export const halfPackCheck: KernelCheck = {
  name: 'halfPack',
  async run(ctx) {
    const formats: HalfFormat[] = ['fp16', 'bf16'];
    const out: CheckResult[] = [];
    for (const f of formats) out.push(...(await roundTrip(ctx, f)), ...(await atOffset(ctx, f)));
    return [...out, ...(await lossScaling(ctx))];
  },
};
