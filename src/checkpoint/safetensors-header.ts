// A safetensors file's JSON header alone (tensor names, dtypes, shapes, metadata), without
// copying any tensor data: what a store needs to index a rank file it receives.

export interface TensorEntry {
  dtype: string;
  shape: number[];
  /** byte offsets relative to the end of the header */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  tensors: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** bytes before the first tensor: 8 + header length */
  dataStart: number;
}

/** `bytes` may be the whole file or only its first 8 + header-length bytes. */
export function readSafetensorsHeader(
  bytes: Uint8Array,
  source = 'safetensors',
  fileSize = bytes.length,
): SafetensorsHeader {
  if (bytes.length < 8) throw new Error(`${source}: file is ${bytes.length} bytes, too short for a safetensors header`);
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > fileSize - 8)
    throw new Error(`${source}: header length ${headerLen} exceeds the file size ${fileSize}`);
  if (headerLen > bytes.length - 8)
    throw new Error(`${source}: only ${bytes.length} of the header's ${8 + headerLen} bytes given`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch (e) {
    throw new Error(`${source}: header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header))
    throw new Error(`${source}: header is not a JSON object`);
  const tensors = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  const dataSize = fileSize - 8 - headerLen;
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (typeof raw !== 'object' || raw === null || Object.values(raw).some((v) => typeof v !== 'string'))
        throw new Error(`${source}: __metadata__ must map names to strings`);
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const shape = e?.shape,
      offs = e?.data_offsets;
    if (
      typeof e?.dtype !== 'string' ||
      !Array.isArray(shape) ||
      !shape.every((d) => Number.isInteger(d) && d >= 0) ||
      !Array.isArray(offs) ||
      offs.length !== 2 ||
      !offs.every((o) => Number.isInteger(o) && o >= 0) ||
      offs[0] > offs[1] ||
      offs[1] > dataSize
    ) {
      throw new Error(`${source}: tensor ${name} has a malformed header entry ${JSON.stringify(raw).slice(0, 200)}`);
    }
    tensors.set(name, { dtype: e.dtype, shape: shape as number[], dataOffsets: [offs[0], offs[1]] });
  }
  return { tensors, metadata, dataStart: 8 + headerLen };
}
