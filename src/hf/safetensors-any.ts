// Hugging Face safetensors files as f32 tensors: F32, F16, BF16 and F64 are widened or
// narrowed to f32 (tabtron computes in f32); tensors of other dtypes (int buffers) are skipped
// and listed, so the caller can say which one it missed.

import { readSafetensorsHeader } from '../checkpoint/safetensors-header';
import { writeSafetensors } from '../checkpoint/safetensors';
import { HfError } from './errors';
import type { Tensor, Tensors } from './weights';

const f16 = (h: number): number => {
  const s = h & 0x8000 ? -1 : 1,
    e = (h >> 10) & 0x1f,
    m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
};

function decode(dtype: string, bytes: Uint8Array, n: number): Float32Array | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  switch (dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16(view.getUint16(2 * i, true));
      return out;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    default:
      return null;
  }
}

const WIDTH: Record<string, number> = { F32: 4, F64: 8, F16: 2, BF16: 2 };

export interface DecodedHfFile {
  tensors: Tensors;
  /** names of tensors with a non-float dtype, which were not decoded */
  skipped: string[];
  metadata: Record<string, string>;
}

export function readHfSafetensors(bytes: Uint8Array, source: string): DecodedHfFile {
  let header: ReturnType<typeof readSafetensorsHeader>;
  try {
    header = readSafetensorsHeader(bytes, source);
  } catch (e) {
    throw new HfError((e as Error).message);
  }
  const tensors: Tensors = new Map();
  const skipped: string[] = [];
  for (const [name, e] of header.tensors) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    const [lo, hi] = e.dataOffsets;
    const width = WIDTH[e.dtype];
    if (width === undefined) {
      skipped.push(name);
      continue;
    }
    if (hi - lo !== n * width)
      throw new HfError(
        `${source}: tensor ${name} (${e.dtype} [${e.shape}]) has ${hi - lo} bytes, expected ${n * width}`,
      );
    const data = decode(e.dtype, bytes.subarray(header.dataStart + lo, header.dataStart + hi), n)!;
    tensors.set(name, { shape: e.shape, data } satisfies Tensor);
  }
  return { tensors, skipped, metadata: header.metadata };
}

/** A safetensors file that transformers loads (metadata format "pt"), every tensor F32. */
export function writeHfSafetensors(tensors: ReadonlyMap<string, Tensor>): Uint8Array {
  const named = Object.fromEntries(
    [...tensors].map(([k, t]) => [k, { dtype: 'F32' as const, shape: t.shape, data: t.data }]),
  );
  return writeSafetensors(named, { format: 'pt' });
}
