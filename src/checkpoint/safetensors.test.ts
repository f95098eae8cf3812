import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from './safetensors';

describe('safetensors', () => {
  it('round-trips f32 and i32 tensors with metadata', () => {
    const bytes = writeSafetensors(
      {
        a: { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6.5]) },
        tok: { dtype: 'I32', shape: [3], data: Int32Array.from([7, -1, 9]) },
      },
      { step: '3' },
    );
    expect((8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))) % 8).toBe(0);
    const { tensors, metadata } = readSafetensors(bytes);
    expect(metadata).toEqual({ step: '3' });
    expect(Array.from(tensors.a.data)).toEqual([1, 2, 3, 4, 5, 6.5]);
    expect(tensors.a.shape).toEqual([2, 3]);
    expect(Array.from(tensors.tok.data)).toEqual([7, -1, 9]);
  });
  it('rejects shape/data mismatches and truncated files with the source named', () => {
    expect(() => writeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(3) } })).toThrow(
      /a has shape \[4\] but 3 values/,
    );
    const good = writeSafetensors({ a: { dtype: 'F32', shape: [4], data: new Float32Array(4) } });
    expect(() => readSafetensors(good.subarray(0, good.length - 4), 'ckpt/rank0.safetensors')).toThrow(
      /ckpt\/rank0.safetensors: tensor a offsets/,
    );
    expect(() => readSafetensors(new Uint8Array(4), 'x')).toThrow(/too short/);
  });
});
