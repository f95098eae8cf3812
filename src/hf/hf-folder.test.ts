// Reading Hugging Face folders as saved in the wild: sharded weights with an index, F16 and
// BF16 tensors, tokenizer files tabtron knows or not, and pickle-only folders.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSafetensors } from '../checkpoint/safetensors';
import { bits, tinySpec } from '../checkpoint/test-fixtures';
import { removeTempDirs, tempDir } from '../node/temp-dirs';
import { exportHf } from './export';
import { readHfFolder } from './hf-folder';
import { paramDefs } from '../model/params';
import type { Tensors } from './weights';

afterAll(removeTempDirs);

const spec = tinySpec({ V: 256, posEmb: 'rotary', rotaryDims: 4, tied: false });
// values exact in f16 and bf16: multiples of 1/8 in [-4, 4]
const tensors: Tensors = new Map(
  paramDefs(spec).map((d, k) => {
    const n = d.fullShape.reduce((a, b) => a * b, 1);
    return [
      d.name,
      { shape: d.fullShape, data: Float32Array.from({ length: n }, (_, i) => (((i * 7 + k) % 65) - 32) / 8) },
    ];
  }),
);

function safetensors(entries: [string, 'F16' | 'BF16' | 'I64', number[], Uint8Array][]): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [name, dtype, shape, data] of entries) {
    header[name] = { dtype, shape, data_offsets: [off, off + data.length] };
    off += data.length;
  }
  const h = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + h.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
  out.set(h, 8);
  let p = 8 + h.length;
  for (const e of entries) {
    out.set(e[3], p);
    p += e[3].length;
  }
  return out;
}

const f32 = new Float32Array(1),
  u32 = new Uint32Array(f32.buffer);
const toBf16 = (x: number) => {
  f32[0] = x;
  return u32[0] >>> 16;
};
const toF16 = (x: number) => {
  if (x === 0) return 0;
  const s = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const e = Math.floor(Math.log2(a));
  return s | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
};
const halves = (a: Float32Array, f: (x: number) => number) => {
  const out = new Uint8Array(2 * a.length);
  const v = new DataView(out.buffer);
  a.forEach((x, i) => v.setUint16(2 * i, f(x), true));
  return out;
};

describe('readHfFolder', () => {
  it('reads sharded F16/BF16 weights through model.safetensors.index.json, skipping int buffers', () => {
    const dir = tempDir('tabtron-hf-shards-');
    const files = exportHf(spec, tensors, 'CharLevelTokenizer').files;
    writeFileSync(join(dir, 'config.json'), files['config.json']);
    writeFileSync(join(dir, 'tokenizer.json'), files['tokenizer.json']);
    const { tensors: named } = readSafetensors(files['model.safetensors'] as Uint8Array);
    const names = Object.keys(named);
    const half = (list: string[], dtype: 'F16' | 'BF16') =>
      list.map((n): [string, 'F16' | 'BF16', number[], Uint8Array] => [
        n,
        dtype,
        named[n].shape,
        halves(named[n].data as Float32Array, dtype === 'F16' ? toF16 : toBf16),
      ]);
    const a = names.slice(0, 20),
      b = names.slice(20);
    writeFileSync(join(dir, 'model-00001-of-00002.safetensors'), safetensors(half(a, 'F16')));
    writeFileSync(
      join(dir, 'model-00002-of-00002.safetensors'),
      safetensors([...half(b, 'BF16'), ['gpt_neox.layers.0.attention.bias', 'I64', [1], new Uint8Array(8)]]),
    );
    const weightMap = Object.fromEntries([
      ...a.map((n) => [n, 'model-00001-of-00002.safetensors']),
      ...b.map((n) => [n, 'model-00002-of-00002.safetensors']),
    ]);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    const m = readHfFolder(dir);
    expect(m.arch).toBe('GPTNeoXForCausalLM');
    expect(m.tokenizer).toBe('CharLevelTokenizer');
    for (const [k, t] of tensors) expect(bits(m.tensors.get(k)!.data), k).toEqual(bits(t.data));
  });

  it('names what is wrong: pickle-only weights, a missing shard, unknown tokenizer files', () => {
    const dir = tempDir('tabtron-hf-bad-');
    const files = exportHf(spec, tensors, 'CharLevelTokenizer').files;
    writeFileSync(join(dir, 'config.json'), files['config.json']);
    writeFileSync(join(dir, 'pytorch_model.bin'), 'pickle');
    expect(() => readHfFolder(dir)).toThrow(`${dir}: only pytorch_model.bin (PyTorch pickle) is there`);
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { x: 'gone.safetensors' } }));
    expect(() => readHfFolder(dir)).toThrow(`${join(dir, 'gone.safetensors')}: missing`);
    const other = tempDir('tabtron-hf-other-');
    for (const f of ['config.json', 'model.safetensors']) writeFileSync(join(other, f), files[f]);
    expect(readHfFolder(other).tokenizerFiles).toBe('none');
    writeFileSync(join(other, 'vocab.json'), JSON.stringify({ a: 0, b: 1 }));
    const m = readHfFolder(other);
    expect([m.tokenizerFiles, m.tokenizer]).toEqual(['other', null]);
  });
});
