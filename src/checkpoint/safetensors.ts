// safetensors (https://huggingface.co/docs/safetensors) read/write for f32 and i32 tensors:
// u64 little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, data.

export interface NamedTensor {
  dtype: 'F32' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array;
}

export function writeSafetensors(
  tensors: Record<string, NamedTensor>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = Object.keys(tensors);
  for (const name of names) {
    const t = tensors[name];
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new Error(`safetensors: ${name} has shape [${t.shape}] but ${t.data.length} values`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((json.length + 8) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const d = tensors[name].data;
    out.set(new Uint8Array(d.buffer, d.byteOffset, d.byteLength), pos);
    pos += d.byteLength;
  }
  return out;
}

export function readSafetensors(
  bytes: Uint8Array,
  source = 'safetensors',
): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  if (bytes.length < 8) throw new Error(`${source}: file is ${bytes.length} bytes, too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > bytes.length - 8)
    throw new Error(`${source}: header length ${headerLen} exceeds the file size ${bytes.length}`);
  let header: Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>
  >;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  const base = 8 + headerLen;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (e.dtype !== 'F32' && e.dtype !== 'I32')
      throw new Error(`${source}: tensor ${name} has dtype ${e.dtype}; only F32 and I32 are supported`);
    const [s, t] = e.data_offsets;
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (t - s !== n * 4 || base + t > bytes.length)
      throw new Error(
        `${source}: tensor ${name} offsets [${s}, ${t}] do not match shape [${e.shape}] or the file size`,
      );
    const copy = bytes.slice(base + s, base + t);
    tensors[name] = {
      dtype: e.dtype,
      shape: e.shape,
      data: e.dtype === 'F32' ? new Float32Array(copy.buffer) : new Int32Array(copy.buffer),
    };
  }
  return { tensors, metadata };
}
